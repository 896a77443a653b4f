"""The inventory block of a tracking issue (docs/behaviour.md §11): pure functions over text.

- :func:`summarise` turns per-file findings into an :class:`Inventory` (totals, per rule, the
  files with the most violations and their first violating line);
- :func:`render_block` draws the block (counts, top files, a Mermaid ``xychart-beta`` line chart
  and the history as JSON in an HTML comment);
- :func:`parse_history` reads the history back from an issue body, :func:`add_point` extends it
  (at most :data:`MAX_POINTS`, oldest dropped, one point per commit);
- :func:`replace_block` puts the block in a body: in place of the old one, or appended after one
  blank line; every byte outside the block stays as it was (CRLF bodies get CRLF blocks).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

START = "<!-- ssot-bot:inventory start -->"
END = "<!-- ssot-bot:inventory end -->"
HISTORY_PREFIX = "<!-- ssot-bot:inventory-history "
MAX_POINTS = 200
TOP_FILES = 20

_SHA = re.compile(r"[0-9a-f]{40}\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_HISTORY = re.compile(r"<!-- ssot-bot:inventory-history (\{.*?\}) -->")
# A path shown as is: nothing that could end a code span, a table cell, a link or a comment.
_PLAIN_PATH = re.compile(r"[\w./@+=,~() -]{1,300}\Z")


@dataclass(frozen=True, slots=True)
class Point:
    """One analysed commit of the history."""

    date: str  # YYYY-MM-DD (UTC)
    sha: str  # 40 hex
    total: int

    def as_json(self) -> dict[str, object]:
        return {"date": self.date, "sha": self.sha, "total": self.total}


@dataclass(frozen=True, slots=True)
class FileCount:
    path: str
    count: int
    first_line: int


@dataclass(frozen=True, slots=True)
class Inventory:
    """What the block says about one commit, for one tracking issue's rules."""

    sha: str
    date: str
    rules: tuple[str, ...]
    total: int = 0
    per_rule: Mapping[str, int] = field(default_factory=dict)
    top_files: tuple[FileCount, ...] = ()
    files_with_violations: int = 0
    files_checked: int = 0
    errors: int = 0  # files that could not be analysed (not UTF-8, no parse, over budget)
    skipped_large: int = 0  # files over limits.max_file_bytes
    too_large: str | None = None  # why the repository was not analysed (over a limit)

    def as_json(self) -> dict[str, object]:
        return {
            "sha": self.sha, "date": self.date, "total": self.total,
            "rules": {r: self.per_rule.get(r, 0) for r in self.rules},
            "files": [{"path": f.path, "count": f.count, "line": f.first_line}
                      for f in self.top_files],
            "files_with_violations": self.files_with_violations,
            "files_checked": self.files_checked, "errors": self.errors,
            "skipped_large": self.skipped_large, "too_large": self.too_large,
        }


# A file's findings: (rule id, line) pairs.
Findings = Sequence[tuple[str, int]]


def summarise(
    findings: Mapping[str, Findings],
    rules: Sequence[str],
    *,
    sha: str,
    date: str,
    files_checked: int,
    errors: int = 0,
    skipped_large: int = 0,
) -> Inventory:
    """Counts of ``rules``' findings over every file (path -> findings)."""
    wanted = set(rules)
    per_rule = dict.fromkeys(rules, 0)
    files: list[FileCount] = []
    for path, found in findings.items():
        mine = [(r, line) for r, line in found if r in wanted]
        if not mine:
            continue
        for r, _ in mine:
            per_rule[r] += 1
        files.append(FileCount(path, len(mine), min(line for _, line in mine)))
    files.sort(key=lambda f: (-f.count, f.path))
    return Inventory(
        sha=sha, date=date, rules=tuple(rules), total=sum(per_rule.values()),
        per_rule=per_rule, top_files=tuple(files[:TOP_FILES]),
        files_with_violations=len(files), files_checked=files_checked, errors=errors,
        skipped_large=skipped_large)


def too_large(rules: Sequence[str], *, sha: str, date: str, reason: str) -> Inventory:
    """The inventory of a repository over a limit (not analysed); ``reason`` says which, e.g.
    ``more than 50,000 files to check (limits.max_inventory_files)``."""
    return Inventory(sha=sha, date=date, rules=tuple(rules), too_large=reason)


# --- history ---------------------------------------------------------------------------------


def parse_history(body: str | None) -> list[Point]:
    """The history kept in the block of ``body`` (malformed points are dropped)."""
    if not body:
        return []
    inside = _block_span(body)
    if inside is None:
        return []
    match = _HISTORY.search(body, inside[0], inside[1])
    if match is None:
        return []
    try:
        data = json.loads(match.group(1))
    except ValueError:
        return []
    points = data.get("points") if isinstance(data, dict) else None
    if not isinstance(points, list):
        return []
    out: list[Point] = []
    for p in points:
        if not isinstance(p, dict):
            continue
        date, sha, total = p.get("date"), p.get("sha"), p.get("total")
        if (isinstance(date, str) and _DATE.match(date) and isinstance(sha, str)
                and _SHA.match(sha) and isinstance(total, int) and not isinstance(total, bool)
                and total >= 0):
            out.append(Point(date, sha, total))
    return out[-MAX_POINTS:]


def add_point(history: Sequence[Point], point: Point) -> list[Point]:
    """``history`` with ``point``: a commit already there is updated in place (a redelivered
    push or a refresh adds nothing); at most :data:`MAX_POINTS`, the oldest dropped."""
    points = list(history)
    for index, old in enumerate(points):
        if old.sha == point.sha:
            points[index] = point
            return points
    points.append(point)
    return points[-MAX_POINTS:]


def previous_total(history: Sequence[Point], sha: str) -> int | None:
    """The total of the newest point that is not ``sha`` (None: no such point)."""
    for p in reversed(history):
        if p.sha != sha:
            return p.total
    return None


# --- rendering -------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _file_link(base: str | None, sha: str, f: FileCount) -> str:
    shown = f"`{f.path}`" if _PLAIN_PATH.match(f.path) else "(a file whose name is not shown)"
    if base is None:
        return f"{shown} (line {f.first_line})"
    return f"[{shown}]({base}/blob/{sha}/{quote(f.path)}#L{f.first_line})"


def _axis_max(totals: Sequence[int]) -> int:
    top: int = max(totals, default=0)
    if top < 10:
        return max(top + 1, 1)
    magnitude: int = 10 ** (len(str(top)) - 1)
    return (top // magnitude + 1) * magnitude


def render_chart(history: Sequence[Point]) -> list[str]:
    """A Mermaid ``xychart-beta`` line chart of the history (empty when there is none).

    x-axis categories are the short shas (unique, so no two points share a band)."""
    if not history:
        return []
    labels = ", ".join(f'"{p.sha[:7]}"' for p in history)
    values = ", ".join(str(p.total) for p in history)
    return [
        "```mermaid",
        "xychart-beta",
        '    title "SSOT violations left"',
        f"    x-axis [{labels}]",
        f'    y-axis "violations" 0 --> {_axis_max([p.total for p in history])}',
        f"    line [{values}]",
        "```",
    ]


def render_block(
    inventory: Inventory,
    history: Sequence[Point],
    *,
    html_base: str | None,
    newline: str = "\n",
) -> str:
    """The whole block, markers included. ``html_base``: ``https://<host>/<owner>/<repo>`` (None
    for local runs: no links). ``history`` already holds this commit's point (if any)."""
    sha = inventory.sha
    short = sha[:7] if sha else "working tree"
    at = f"[`{short}`]({html_base}/commit/{sha})" if html_base and sha else f"`{short}`"
    lines = [START, "### SSOT inventory", ""]
    if inventory.too_large is not None:
        lines += [
            f"This repository was too large to take the inventory at {at} "
            f"({inventory.date}): {inventory.too_large}.",
            "",
        ]
    else:
        before = previous_total(history, sha) if sha else None
        change = ""
        if before is not None and before != inventory.total:
            diff = inventory.total - before
            change = (f" ({abs(diff):,} fewer than before)" if diff < 0
                      else f" ({diff:,} more than before)")
        lines += [
            f"**{_plural(inventory.total, 'violation')} left** at {at} ({inventory.date}) "
            f"in {_plural(inventory.files_with_violations, 'file')}; "
            f"{_plural(inventory.files_checked, 'file')} checked{change}.",
            "",
            "| rule | violations |",
            "|---|---:|",
        ]
        lines += [f"| `{r}` | {inventory.per_rule.get(r, 0):,} |" for r in inventory.rules]
        lines.append("")
        if inventory.top_files:
            lines += [
                f"Files with the most violations (top {len(inventory.top_files)}), linked to "
                "their first one:",
                "",
                "| file | violations |",
                "|---|---:|",
            ]
            lines += [f"| {_file_link(html_base, sha, f)} | {f.count:,} |"
                      for f in inventory.top_files]
            lines.append("")
        notes = []
        if inventory.errors:
            notes.append(f"{_plural(inventory.errors, 'file')} could not be analysed "
                         "(not UTF-8, no parse, or over the time budget)")
        if inventory.skipped_large:
            notes.append(f"{_plural(inventory.skipped_large, 'file')} over "
                         "`limits.max_file_bytes` skipped")
        if notes:
            lines += ["; ".join(notes).capitalize() + ".", ""]
    chart = render_chart(history)
    if chart:
        lines += [*chart, ""]
    payload = json.dumps({"points": [p.as_json() for p in history]}, separators=(", ", ": "))
    lines += [f"{HISTORY_PREFIX}{payload} -->", END]
    return newline.join(lines)


# --- placing the block -----------------------------------------------------------------------


def _block_span(body: str) -> tuple[int, int] | None:
    """(start, end) of the block in ``body``: the first end marker and the nearest start marker
    before it (a stray start marker left above does not swallow the text between)."""
    end = body.find(END)
    if end < 0:
        return None
    start = body.rfind(START, 0, end)
    if start < 0:
        return None
    return start, end + len(END)


def newline_of(body: str) -> str:
    return "\r\n" if "\r\n" in body else "\n"


def replace_block(body: str | None, block: str) -> str:
    """``body`` with ``block`` in place of its inventory block, or appended after one blank
    line. Nothing outside the block changes."""
    text = body or ""
    span = _block_span(text)
    if span is not None:
        return text[: span[0]] + block + text[span[1]:]
    if not text:
        return block
    nl = newline_of(text)
    if text.endswith(nl + nl) or text.endswith("\n\n"):
        sep = ""
    elif text.endswith("\n"):
        sep = nl
    else:
        sep = nl + nl
    return text + sep + block


def update_body(
    body: str | None, inventory: Inventory, *, html_base: str | None
) -> tuple[str, list[Point]]:
    """The body with the block for ``inventory`` (its point added to the body's history) and
    that history. A too-large inventory adds no point."""
    history = parse_history(body)
    if inventory.too_large is None and inventory.sha:
        history = add_point(history, Point(inventory.date, inventory.sha, inventory.total))
    block = render_block(inventory, history, html_base=html_base,
                         newline=newline_of(body or ""))
    return replace_block(body, block), history


INCOMPLETE = "Inventory incomplete: "


def mark_incomplete(body: str | None, reason: str) -> str:
    """``body`` with its block's figures kept as they were and ``Inventory incomplete:
    <reason>`` on the block's first line (replacing an earlier such line); a body without a
    block gets one holding only that line. ``reason``: the bot's own words, never a user's."""
    text = body or ""
    nl = newline_of(text)
    notice = f"{INCOMPLETE}{reason}"
    span = _block_span(text)
    if span is None:
        return replace_block(body, nl.join([START, notice, "", END]))
    first, *rest = text[span[0]:span[1]].split(nl)
    if rest and rest[0].startswith(INCOMPLETE):
        rest = rest[1:]
    return text[:span[0]] + nl.join([first, notice, *rest]) + text[span[1]:]


def clear_marker(sha: str) -> str:
    return f"<!-- ssot-bot:inventory-clear sha={sha} -->"


def clear_comment(sha: str, html_base: str) -> str:
    return (f"🎉 The SSOT inventory reached **0** at [`{sha[:7]}`]({html_base}/commit/{sha}): "
            f"no violation of this issue's rules is left on the default branch.\n\n"
            f"{clear_marker(sha)}")


def expand_rules(targets: Iterable[Sequence[str]]) -> tuple[str, ...]:
    """Every rule id of the targets, first-seen order."""
    seen: dict[str, None] = {}
    for rules in targets:
        for r in rules:
            seen.setdefault(r, None)
    return tuple(seen)

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

from bot import markers
from bot.markdown_lines import block_structure

START = markers.INVENTORY_START
END = markers.INVENTORY_END
MAX_POINTS = 200
MAX_TOTAL = 10**12  # a total above this is not one the bot wrote: the point is dropped
TOP_FILES = 20

_SHA = re.compile(r"[0-9a-f]{40}\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
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
    """The history kept in the block of ``body``. A history the bot cannot read (over
    64 KiB, not JSON, nested too deep, not the expected shape) is no history: the next point
    starts a new one (docs/behaviour.md §13). Malformed points (a bad date or sha, a total that
    is not a whole number from 0 to :data:`MAX_TOTAL`) are dropped."""
    if not body:
        return []
    spans = block_spans(body)
    if not spans:
        return []
    payload = markers.history_payload(body, spans[0][0], spans[0][1])
    if payload is None:
        return []
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested without end
        return []
    points = data.get("points") if isinstance(data, dict) else None
    if not isinstance(points, list):
        return []
    out: list[Point] = []
    for p in points[-MAX_POINTS:]:
        if not isinstance(p, dict):
            continue
        date, sha, total = p.get("date"), p.get("sha"), p.get("total")
        if (isinstance(date, str) and _DATE.match(date) and isinstance(sha, str)
                and _SHA.match(sha) and type(total) is int and 0 <= total <= MAX_TOTAL):
            out.append(Point(date, sha, total))
    return out


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


CHART_COLOR = "#2f81f7"  # GitHub's accent blue: readable on white and on the dark theme
# Mermaid's own default line colour is a pale lavender that vanishes on white.
CHART_INIT = ('%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "'
              + CHART_COLOR + '"}}}}%%')
MAX_DATE_LABELS = 12  # up to this many points each is labelled by its date; more: numbered


def _date_labels(history: Sequence[Point]) -> list[str]:
    """``MM-DD`` per point (``YYYY-MM-DD`` when the history spans years); a second point of
    the same day gets `` (2)``, so no two points share a band."""
    years = {p.date[:4] for p in history}
    seen: dict[str, int] = {}
    out = []
    for p in history:
        label = p.date if len(years) > 1 else p.date[5:]
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def render_chart(history: Sequence[Point]) -> list[str]:
    """A Mermaid ``xychart-beta`` line chart of the history; none under 2 points (one point
    draws no line). Up to :data:`MAX_DATE_LABELS` points the x-axis names each point's date;
    beyond, it numbers the analysed commits and its title gives the date range (dates would
    run into each other)."""
    if len(history) < 2:
        return []
    if len(history) <= MAX_DATE_LABELS:
        labels = ", ".join(f'"{label}"' for label in _date_labels(history))
        x_axis = f'    x-axis "date of the analysed commit" [{labels}]'
    else:
        x_axis = (f'    x-axis "analysed commits, {history[0].date} to {history[-1].date}" '
                  f"1 --> {len(history)}")
    values = ", ".join(str(p.total) for p in history)
    return [
        "```mermaid",
        CHART_INIT,
        "xychart-beta",
        '    title "SSOT violations left"',
        x_axis,
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
            # a list, not a table: a long path wraps instead of pushing the counts out of view
            lines += [
                f"Files with the most violations (top {len(inventory.top_files)}), linked to "
                "their first one:",
                "",
            ]
            lines += [f"- **{f.count:,}** in {_file_link(html_base, sha, f)}"
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
    elif inventory.too_large is None and len(history) == 1:
        lines += ["The chart of the remaining violations starts with the next analysed commit.",
                  ""]
    payload = json.dumps({"points": [p.as_json() for p in history]}, separators=(", ", ": "))
    lines += [markers.inventory_history(payload), END]
    return newline.join(lines)


# --- placing the block -----------------------------------------------------------------------


def block_spans(body: str) -> list[tuple[int, int]]:
    """Character spans of the inventory blocks in ``body``, in order (docs/behaviour.md §13).

    Only a start and an end marker each alone on its line, outside code (fenced or indented,
    found by the CommonMark parser), in that order, delimit a block; a start marker with no
    end after it, an end marker with no start before it, and markers inside code spans or code
    blocks are text. Of several start markers before an end marker the last one opens the
    block, so no text a person wrote between them is taken into it. A span runs from the start
    of the start marker's line to the end of the end marker's line, without its line ending."""
    if markers.INVENTORY_START not in body:
        return []
    code = block_structure(body).code
    spans: list[tuple[int, int]] = []
    opened: int | None = None
    at = 0
    for index, line in enumerate(body.split("\n")):
        begin, at = at, at + len(line) + 1
        if index < len(code) and code[index]:
            continue
        text = line.strip()
        if text == markers.INVENTORY_START:
            opened = begin
        elif text == markers.INVENTORY_END and opened is not None:
            spans.append((opened, begin + len(line.rstrip("\r"))))
            opened = None
    return spans


def newline_of(body: str) -> str:
    return "\r\n" if "\r\n" in body else "\n"


def replace_block(body: str | None, block: str) -> str:
    """``body`` with ``block`` in place of its inventory block, or appended after one blank
    line. A second complete block (a copy a person pasted, or left by an older version) is
    removed, so the body keeps exactly one; nothing outside the blocks changes."""
    text = body or ""
    spans = block_spans(text)
    if spans:
        out = text
        for start, end in reversed(spans[1:]):
            # the copy's lines and the blank line that separated it from the text above
            cut_end = end
            if text.startswith("\r\n", cut_end):
                cut_end += 2
            elif text.startswith("\n", cut_end):
                cut_end += 1
            cut_start = start
            for sep in ("\r\n\r\n", "\n\n"):
                if text.endswith(sep, 0, start) and cut_end == len(text):
                    cut_start = start - len(sep) // 2
                    break
            out = out[:cut_start] + out[cut_end:]
        start, end = spans[0]
        return out[:start] + block + out[end:]
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
    spans = block_spans(text)
    if not spans:
        return replace_block(body, nl.join([START, notice, "", END]))
    span = spans[0]
    first, *rest = text[span[0]:span[1]].split(nl)
    if rest and rest[0].startswith(INCOMPLETE):
        rest = rest[1:]
    return text[:span[0]] + nl.join([first, notice, *rest]) + text[span[1]:]


def clear_comment(sha: str, html_base: str) -> str:
    return (f"🎉 The SSOT inventory reached **0** at [`{sha[:7]}`]({html_base}/commit/{sha}): "
            f"no violation of this issue's rules is left on the default branch.\n\n"
            f"{markers.inventory_clear(sha)}")


def expand_rules(targets: Iterable[Sequence[str]]) -> tuple[str, ...]:
    """Every rule id of the targets, first-seen order."""
    seen: dict[str, None] = {}
    for rules in targets:
        for r in rules:
            seen.setdefault(r, None)
    return tuple(seen)

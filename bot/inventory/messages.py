"""What the bot says in the inventory block of a tracking issue and about it
(docs/behaviour.md §11): the block's text (counts, top files, a Mermaid ``xychart-beta`` line
chart and the history as JSON in an HTML comment), the notice of an incomplete inventory and the
comment when the count reaches 0. Paths are shown only when plain (else not at all); markers come
from :mod:`bot.markers`. As :mod:`bot.tracking.messages` is for the tracking."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from urllib.parse import quote

from bot import markers
from bot.inventory.model import FileCount, Inventory, Point, previous_total

# A path shown as is: nothing that could end a code span, a table cell, a link or a comment.
_PLAIN_PATH = re.compile(r"[\w./@+=,~() -]{1,300}\Z")
INCOMPLETE = "Inventory incomplete: "


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
    lines = [markers.INVENTORY_START, "### SSOT inventory", ""]
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
    lines += [markers.inventory_history(payload), markers.INVENTORY_END]
    return newline.join(lines)


def clear_comment(sha: str, html_base: str) -> str:
    return (f"🎉 The SSOT inventory reached **0** at [`{sha[:7]}`]({html_base}/commit/{sha}): "
            f"no violation of this issue's rules is left on the default branch.\n\n"
            f"{markers.inventory_clear(sha)}")

"""The inventory block of a tracking issue (docs/behaviour.md §11) in an issue body: pure
functions over text.

- :func:`parse_history` reads the history back from an issue body, :func:`add_point` extends it
  (at most :data:`MAX_POINTS`, oldest dropped, one point per commit);
- :func:`replace_block` puts the block in a body: in place of the old one, or appended after one
  blank line; every byte outside the block stays as it was (CRLF bodies get CRLF blocks);
- :func:`update_body` and :func:`mark_incomplete` do both with the block's text from
  :mod:`bot.inventory.messages` (what it counts: :mod:`bot.inventory.model`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from bot import markers
from bot.inventory.messages import INCOMPLETE, render_block
from bot.inventory.model import Inventory, Point
from bot.markdown_lines import block_structure

START = markers.INVENTORY_START
END = markers.INVENTORY_END
MAX_POINTS = 200
MAX_TOTAL = 10**12  # a total above this is not one the bot wrote: the point is dropped

_SHA = re.compile(r"[0-9a-f]{40}\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


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

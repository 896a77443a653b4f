"""One Markdown line scanner for everything that reads user Markdown line by line.

The `/ssot` command parser (:mod:`bot.commands`), the PR-body link parser
(:mod:`bot.tracking.links`) and the checklist editor (:mod:`bot.tracking.checklist`) must agree
on what GitHub renders as text: lines inside fenced code blocks, HTML comments and block quotes
are not, and headings delimit sections. They all ask this module, so they cannot drift apart.

Pure and linear: one pass over the lines, no backtracking regular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

__all__ = ["Blocks", "MdLine", "block_structure", "heading_text", "scan_lines"]

_FENCE_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?=[ \t]|$)(?P<text>.*)$")


@dataclass(frozen=True, slots=True)
class MdLine:
    """What one line is, as GitHub renders it.

    ``text``: the line with HTML comments cut out (``""`` when hidden entirely);
    ``fenced``: a fence marker or a line inside a fenced code block;
    ``open_after``: a fenced code block is still open after this line;
    ``comment``: the line lies wholly inside an HTML comment;
    ``quote``: a block-quote line; ``code``: an indented code block line (only when asked for);
    ``heading``: the ATX heading level (1-6), 0 for none.
    """

    text: str
    fenced: bool = False
    open_after: bool = False
    comment: bool = False
    quote: bool = False
    code: bool = False
    heading: int = 0

    @property
    def visible(self) -> bool:
        """Rendered as Markdown text (not code, not a comment, not a quote)."""
        return not (self.fenced or self.comment or self.quote or self.code)


def _indent(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def heading_text(line: str) -> tuple[int, str] | None:
    """``(level, text after the hashes)`` of an ATX heading line, or None."""
    m = _HEADING.match(line)
    if m is None:
        return None
    return len(m.group("hashes")), m.group("text")


def scan_lines(lines: Sequence[str], *, indented_code: bool = False) -> list[MdLine]:
    """Classify each line (without its line ending). ``indented_code``: treat a line indented
    by four or more columns after a blank line as code (comments; not task lists, whose nested
    items are indented)."""
    out: list[MdLine] = []
    fence: str | None = None
    in_comment = False
    in_code = False
    previous_blank = True
    for raw in lines:
        blank = not raw.strip()
        if fence is not None:
            if _closes(raw, fence):
                fence = None
            out.append(MdLine("", fenced=True, open_after=fence is not None))
            previous_blank = False
            continue
        line = raw
        if in_comment:
            end = line.find("-->")
            if end < 0:
                out.append(MdLine("", comment=True))
                previous_blank = False
                continue
            line = line[end + 3:]
            in_comment = False
        while (start := line.find("<!--")) >= 0:
            end = line.find("-->", start + 4)
            if end < 0:
                line = line[:start]
                in_comment = True
                break
            line = line[:start] + line[end + 3:]
        if indented_code:
            if in_code and (blank or _indent(raw) >= 4):
                out.append(MdLine("", code=True))
                previous_blank = blank
                continue
            in_code = False
            if not blank and _indent(raw) >= 4 and previous_blank:
                in_code = True
                out.append(MdLine("", code=True))
                previous_blank = False
                continue
        previous_blank = blank
        fm = _FENCE_OPEN.match(line)
        if fm and not (fm.group("fence")[0] == "`" and "`" in fm.group("info")):
            fence = fm.group("fence")
            out.append(MdLine("", fenced=True, open_after=True))
            continue
        if line.lstrip().startswith(">"):
            out.append(MdLine(line, quote=True))
            continue
        if not line.strip() and raw.strip():
            # nothing but an HTML comment (or its start) on this line
            out.append(MdLine("", comment=True))
            continue
        h = heading_text(line)
        out.append(MdLine(line, heading=h[0] if h else 0))
    return out


# --- block structure by a CommonMark parser --------------------------------------------------

# Block rules only: inline parsing (emphasis, links, code spans) is never needed to know which
# lines are code, headings or quotes, and is most of markdown-it's time.
_PARSER = MarkdownIt("commonmark").disable(["inline", "text_join"])
_LONE_CR = re.compile(r"\r(?!\n)")


@dataclass(frozen=True, slots=True)
class Blocks:
    """What CommonMark makes of a text's lines (split on ``"\n"``, as the line editors do).

    ``code``: the line belongs to a fenced or indented code block (at any depth: in a list
    item or a quote too); ``headings``: top-level heading line -> ``(level, end)``, ``end``
    exclusive (2 lines for a setext heading: the text and its underline); ``quote``: the line
    lies in a top-level block quote; ``open_fence``: line -> the fenced block it lies in goes
    on after it (a move never lands inside one)."""

    code: list[bool]
    headings: dict[int, tuple[int, int]] = field(default_factory=dict)
    quote: list[bool] = field(default_factory=list)
    open_fence: list[bool] = field(default_factory=list)


def block_structure(text: str) -> Blocks:
    """The block structure of ``text`` by markdown-it (CommonMark), one entry per line."""
    count = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    code = [False] * count
    quote = [False] * count
    open_fence = [False] * count
    headings: dict[int, tuple[int, int]] = {}
    # markdown-it counts a lone "\r" as a line break; the line editors do not
    tokens = _PARSER.parse(_LONE_CR.sub(" ", text)) if count else []
    for token in tokens:
        where = token.map
        if where is None:
            continue
        start, end = where[0], min(where[1], count)
        if token.type in ("fence", "code_block"):
            for j in range(start, end):
                code[j] = True
            if token.type == "fence":
                for j in range(start, end - 1):
                    open_fence[j] = True
        elif token.level == 0 and token.type == "heading_open":
            headings[start] = (int(token.tag[1:]), end)
        elif token.level == 0 and token.type == "blockquote_open":
            for j in range(start, end):
                quote[j] = True
    return Blocks(code, headings, quote, open_fence)

"""One Markdown line scanner for everything that reads user Markdown line by line.

The `/ssot` command parser (:mod:`bot.commands`), the PR-body link parser
(:mod:`bot.tracking.links`) and the checklist editor (:mod:`bot.tracking.model`) must agree
on what GitHub renders as text: lines inside fenced code blocks, HTML comments and block quotes
are not, and headings delimit sections. They all ask this module, so they cannot drift apart.

:func:`scan_lines` is pure and linear: one pass over the lines, no backtracking regular
expressions. :func:`scan_blocks` (the tracking editor) and :func:`block_structure` (the
inventory block) give CommonMark's block structure (setext headings, indented code, HTML
blocks, containers) by markdown-it, which :func:`scan_blocks` asks only when the lines hold a
construct the scanner could misjudge (:func:`needs_parser`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

__all__ = ["Blocks", "MdLine", "block_structure", "heading_text", "scan_blocks", "scan_lines"]

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
    ``heading``: the heading level (1-6), 0 for none; ``setext``: the heading is a setext one
    (its text is the whole line; the underline below it is hidden, like a comment).
    """

    text: str
    fenced: bool = False
    open_after: bool = False
    comment: bool = False
    quote: bool = False
    code: bool = False
    heading: int = 0
    setext: bool = False

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
        if in_comment and "-->" not in raw:
            out.append(MdLine("", comment=True))
            previous_blank = False
            continue
        line, in_comment, _ = _strip_comments(raw, in_comment)
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
    item or a quote too); ``fenced``: a fenced one; ``headings``: top-level heading line ->
    ``(level, end)``, ``end`` exclusive (2 lines for a setext heading: the text and its
    underline); ``quote``: the line lies in a top-level block quote; ``html``: in an HTML block
    (raw HTML or a comment: no Markdown); ``open_fence``: the fenced block the line lies in
    goes on after it (a move never lands inside one)."""

    code: list[bool]
    headings: dict[int, tuple[int, int]] = field(default_factory=dict)
    quote: list[bool] = field(default_factory=list)
    open_fence: list[bool] = field(default_factory=list)
    html: list[bool] = field(default_factory=list)
    fenced: list[bool] = field(default_factory=list)


def block_structure(text: str) -> Blocks:
    """The block structure of ``text`` by markdown-it (CommonMark), one entry per line."""
    count = text.count("\n") + 1
    code = [False] * count
    quote = [False] * count
    open_fence = [False] * count
    html = [False] * count
    fenced = [False] * count
    headings: dict[int, tuple[int, int]] = {}
    # markdown-it counts a lone "\r" as a line break; the line editors do not
    tokens = _PARSER.parse(_LONE_CR.sub(" ", text))
    for token in tokens:
        where = token.map
        if where is None:
            continue
        start, end = where[0], min(where[1], count)
        if token.type in ("fence", "code_block"):
            for j in range(start, end):
                code[j] = True
            if token.type == "fence":
                for j in range(start, end):
                    fenced[j] = True
                    open_fence[j] = j < end - 1
        elif token.level == 0 and token.type == "heading_open":
            headings[start] = (int(token.tag[1:]), end)
        elif token.type == "html_block":
            for j in range(start, end):
                html[j] = True
        elif token.level == 0 and token.type == "blockquote_open":
            for j in range(start, end):
                quote[j] = True
    return Blocks(code, headings, quote, open_fence, html, fenced)


_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_HTML_QUOTE_OR_REFERENCE = re.compile(r"^ {0,3}<|^[ \t]*>|^ {0,3}\[[^\]]*\]:")
# the constructs needs_parser finds without context, one search over the whole text: a setext
# underline, an HTML block / quote / link reference start, a tab in the indentation, an
# indented fence or ATX heading
_RISKY_LINE = re.compile(
    r"^(?: {0,3}(?:=+|-+)[ \t]*$| {0,3}<|[ \t]*>| {0,3}\[[^\]\n]*\]:| *\t"
    r"|[ \t]+(?:`{3,}|~{3,})| +#{1,6}(?:[ \t]|$))",
    re.MULTILINE)
_INDENTED_4 = re.compile(r"^ {4}", re.MULTILINE)
_THEMATIC_BREAK = re.compile(r"^ {0,3}(?:(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|(?:-[ \t]*){3,})$")


def needs_parser(lines: Sequence[str]) -> bool:
    """The lines hold a construct where :func:`scan_lines` could judge a line otherwise than
    CommonMark: a line that could underline a setext heading, a line indented four columns or
    more where an indented code block can start, an HTML block, block quote or link reference
    definition start, an HTML comment left open, a tab in the indentation, an indented fence
    or ATX heading (inside a list item: not top level), or an indented "closing" fence that
    does not close. Without any, the scanner's code, heading and quote lines are CommonMark's
    (tests/test_markdown.py checks that property)."""
    text = "\n".join(lines)
    if _RISKY_LINE.search(text):
        return True
    if "<!--" in text and any(line.rfind("<!--") > line.rfind("-->") for line in lines
                              if "<!--" in line):
        return True  # an HTML comment left open: CommonMark's blocks end it, not "-->"
    if not _INDENTED_4.search(text):
        return False  # no line where indented code could start, nor an indented fence close
    fence: str | None = None
    may_open_code = True  # after a blank line, a heading or a fence: no paragraph to continue
    for raw in lines:
        lead = raw[: len(raw) - len(raw.lstrip(" \t"))]
        if "\t" in lead:
            return True
        indent = len(lead)
        if fence is not None:
            if _closes(raw, fence):
                if indent >= 4:
                    return True
                fence = None
                may_open_code = True
            continue
        if not raw.strip():
            may_open_code = True
            continue
        if indent >= 4 and may_open_code:
            return True
        if raw.rfind("<!--") > raw.rfind("-->"):
            return True  # an HTML comment left open: CommonMark's blocks end it, not "-->"
        if _SETEXT_UNDERLINE.match(raw) or _HTML_QUOTE_OR_REFERENCE.match(raw):
            return True
        if _THEMATIC_BREAK.match(raw):
            may_open_code = True
            continue
        fm = _FENCE_OPEN.match(raw)
        if fm and not (fm.group("fence")[0] == "`" and "`" in fm.group("info")):
            if indent:
                return True
            fence = fm.group("fence")
            may_open_code = True
            continue
        if heading_text(raw) is not None:
            if indent:
                return True
            may_open_code = True
            continue
        may_open_code = False
    return False


def scan_blocks(lines: Sequence[str]) -> list[MdLine]:
    """Like :func:`scan_lines`, with the block structure CommonMark gives: setext headings,
    indented code, fences and headings inside list items, HTML blocks, lazy quote lines. The
    CommonMark parser (markdown-it) decides whenever the lines hold a construct a line scanner
    could misjudge (:func:`needs_parser`); otherwise the linear scanner's answer, which is then
    the same, is used (a 64 KiB task list: 0.02 s instead of markdown-it's 0.3 s)."""
    if not needs_parser(lines):
        return scan_lines(lines)
    blocks = block_structure("\n".join(lines))
    out: list[MdLine] = []
    in_comment = False
    hidden_until = -1  # the rest of a setext heading (its underline)
    for i, raw in enumerate(lines):
        if blocks.code[i]:
            out.append(MdLine("", fenced=blocks.fenced[i], open_after=blocks.open_fence[i],
                              code=not blocks.fenced[i]))
            continue
        if blocks.html[i] or i < hidden_until:
            out.append(MdLine("", comment=True))
            in_comment = False
            continue
        heading = blocks.headings.get(i)
        if heading is not None or not raw.strip():
            in_comment = False  # an inline comment never runs past its paragraph
        line, in_comment, hidden = _strip_comments(raw, in_comment)
        if heading is not None:
            level, end = heading
            setext = heading_text(raw) is None
            if setext:
                hidden_until = end
            out.append(MdLine(line, heading=level, setext=setext))
            continue
        if hidden:
            out.append(MdLine("", comment=True))
            continue
        if blocks.quote[i]:
            out.append(MdLine(line, quote=True))
            continue
        out.append(MdLine(line))
    return out


def _strip_comments(raw: str, in_comment: bool) -> tuple[str, bool, bool]:
    """``raw`` without its HTML comments: ``(text, a comment is still open after it, the line
    is all comment)``."""
    line = raw
    if in_comment:
        end = line.find("-->")
        if end < 0:
            return "", True, True
        line = line[end + 3:]
        in_comment = False
    while (start := line.find("<!--")) >= 0:
        end = line.find("-->", start + 4)
        if end < 0:
            line = line[:start]
            in_comment = True
            break
        line = line[:start] + line[end + 3:]
    return line, in_comment, not line.strip() and bool(raw.strip())

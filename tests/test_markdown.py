"""The shared Markdown line scanner and the code-span helper every comment builder uses."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.markdown_lines import (
    block_structure,
    heading_text,
    needs_parser,
    scan_blocks,
    scan_lines,
)
from bot.report.markdown import code_span


def visible(body: str, **kw: bool) -> list[str]:
    lines = body.split("\n")
    return [md.text for md in scan_lines(lines, **kw) if md.visible]


def test_fences_comments_quotes_and_headings() -> None:
    body = ("# Title\nkeep\n```\nhidden\n```\n~~~~\n```\nstill hidden\n~~~~\n"
            "> quoted\nbefore <!-- gone --> after\n<!--\nhidden\n-->\nend")
    assert visible(body) == ["# Title", "keep", "before  after", "end"]
    md = scan_lines(body.split("\n"))
    assert md[0].heading == 1 and md[1].heading == 0
    assert md[2].fenced and md[2].open_after and not md[4].open_after
    assert heading_text("### \u2705 COMPLETED") == (3, " \u2705 COMPLETED")
    assert heading_text("####### no") is None and heading_text("#no") is None


def test_indented_code_only_when_asked() -> None:
    body = "Text\n\n    code\nback"
    assert visible(body) == ["Text", "", "    code", "back"]
    assert visible(body, indented_code=True) == ["Text", "", "back"]


@pytest.mark.parametrize("text", [
    "plain", "a`b", "``x``", "`edge", "edge`", "@org/team [x](https://evil.example)",
    "<img src=x onerror=alert(1)>", "line\nbreak\r\nand\u2028more", "", "   ", "x" * 500,
])
def test_code_span_is_one_inline_span(text: str) -> None:
    span = code_span(text)
    fence = re.match(r"`+", span)
    assert fence is not None and span.endswith(fence.group())
    inner = span[len(fence.group()):-len(fence.group())]
    assert fence.group() not in inner  # nothing inside closes it early
    assert "\n" not in span and "\r" not in span and "\u2028" not in span
    assert len(span) <= 130


def test_code_span_bounds_length_with_an_ellipsis() -> None:
    assert code_span("x" * 500, limit=10) == "`xxxxxxxxx\u2026`"
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x") == "`` `x ``"



# --- the block structure: markdown-it, or the scanner where it cannot differ ------------------

_STRUCTURE_LINES = [
    "# Title", "## COMPLETED", "### Step 3: x (PENDING)", "   # indented heading", "#no",
    "text", "more text", "", "   ", "- [ ] **Step 1**: a", "  - [ ] 1.1 b", "1. [x] Step 2",
    "```", "~~~", "````md", "  ```", "    ```", "    code", "\tcode", "> quoted", "lazy",
    "---", "===", "***", "<details>", "</details>", "<!-- c -->", "text <!-- open", "-->",
    "**Last Updated**: x  ", "| a | b |", "[ref]: /url", "Title", "-----", "* * *", "___",
    "- - -", "-", "1.", "+ item", "  text", "   text", "``` `bad", "~~~ info", "  ~~~", "#",
    "\\# x", "<!-- a -->b", "a -->", "    ", "text  ",
]
# lines that need no parser on their own: mostly these, so the linear path is well explored
_PLAIN_LINES = [line for line in _STRUCTURE_LINES
                if not needs_parser([line]) and not needs_parser(["x", "", line])]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PLAIN_LINES), st.sampled_from(_PLAIN_LINES),
                          st.sampled_from(_STRUCTURE_LINES)), max_size=30))
def test_without_a_risky_construct_the_scanner_is_commonmark(lines: list[str]) -> None:
    """Where :func:`needs_parser` says the scanner cannot misjudge a line, its code and heading
    lines are exactly markdown-it's; otherwise :func:`scan_blocks` is markdown-it's."""
    blocks = block_structure("\n".join(lines))
    scanned = scan_blocks(lines)
    if not needs_parser(lines):
        assert scanned == scan_lines(lines)
    for i, md in enumerate(scanned):
        if not lines[i].strip():
            continue  # a blank line is nothing either way (markdown-it ends a fence before it)
        want = blocks.headings.get(i, (0, 0))[0]
        assert md.heading == want, (i, lines)
        assert (md.fenced or md.code) == blocks.code[i], (i, lines)
        assert md.quote == blocks.quote[i] or md.comment or blocks.html[i], (i, lines)


def test_setext_headings_indented_code_and_html_blocks_are_commonmarks() -> None:
    lines = ["COMPLETED", "---------", "- [x] a", "", "Notes", "", "    - [ ] code",
             "", "<details>", "- [ ] raw", "</details>", "", "> quote", "lazy line"]
    md = scan_blocks(lines)
    assert (md[0].heading, md[0].setext, md[0].text) == (2, True, "COMPLETED")
    assert not md[1].visible  # the underline
    assert md[6].code and not md[6].visible
    assert not md[9].visible  # inside an HTML block: no Markdown
    assert md[12].quote and md[13].quote  # a lazy continuation is part of the quote


def test_a_64_kib_task_list_takes_the_linear_path() -> None:
    lines = [f"- [ ] **Step {i}**: title {i}" for i in range(2_000)]
    assert not needs_parser(lines)
    assert needs_parser([*lines, "Heading", "---"])

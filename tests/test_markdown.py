"""The shared Markdown line scanner and the code-span helper every comment builder uses."""

from __future__ import annotations

import re

import pytest

from bot.markdown_lines import heading_text, scan_lines
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

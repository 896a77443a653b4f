"""The inventory block (docs/behaviour.md §11): rendering, history, placing it in a body."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest

from bot import markers
from bot.inventory.block import (
    END,
    MAX_POINTS,
    START,
    add_point,
    parse_history,
    replace_block,
    update_body,
)
from bot.inventory.messages import (
    CHART_COLOR,
    CHART_INIT,
    clear_comment,
    render_block,
    render_chart,
)
from bot.inventory.model import (
    TOP_FILES,
    FileCount,
    Inventory,
    Point,
    previous_total,
    summarise,
    too_large,
)

SEED = (Path(__file__).resolve().parents[1] / "data" / "tracking-issue-1103.md").read_bytes(
).decode("utf-8")
BASE = "https://github.com/o/r"
SHA1, SHA2, SHA3 = "a" * 40, "b" * 40, "c" * 40


def inv(total: int = 3, sha: str = SHA1, **kw: object) -> Inventory:
    findings = {"pkg/a.py": [("r1", 9), ("r1", 4), ("r2", 7)]} if total == 3 else {}
    base = summarise(findings, ["r1", "r2"], sha=sha, date="2026-11-30", files_checked=10)
    return Inventory(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **kw})  # type: ignore[arg-type]


# --- summarise -------------------------------------------------------------------------------

def test_summarise_counts_per_rule_and_orders_files() -> None:
    findings = {
        "b.py": [("r1", 3)], "a.py": [("r1", 8), ("r2", 2)], "c.py": [("other", 1)],
        "d.py": [("r2", 5), ("r2", 1), ("r1", 9)],
    }
    result = summarise(findings, ["r1", "r2"], sha=SHA1, date="2026-01-02", files_checked=4)
    assert result.total == 6
    assert dict(result.per_rule) == {"r1": 3, "r2": 3}
    assert result.top_files == (FileCount("d.py", 3, 1), FileCount("a.py", 2, 2),
                                FileCount("b.py", 1, 3))
    assert result.files_with_violations == 3


def test_summarise_keeps_the_top_twenty() -> None:
    findings = {f"f{n:02}.py": [("r", 1)] * (n + 1) for n in range(30)}
    result = summarise(findings, ["r"], sha=SHA1, date="2026-01-02", files_checked=30)
    assert len(result.top_files) == TOP_FILES
    assert result.top_files[0].path == "f29.py"
    assert result.files_with_violations == 30


# --- rendering -------------------------------------------------------------------------------

def test_block_holds_counts_links_chart_and_history() -> None:
    history = [Point("2026-11-29", SHA2, 5), Point("2026-11-30", SHA1, 3)]
    block = render_block(inv(), history, html_base=BASE)
    assert block.startswith(START + "\n") and block.endswith("\n" + END)
    assert f"**3 violations left** at [`aaaaaaa`]({BASE}/commit/{SHA1}) (2026-11-30)" in block
    assert "(2 fewer than before)" in block
    assert "| `r1` | 2 |" in block and "| `r2` | 1 |" in block
    assert f"- **3** in [`pkg/a.py`]({BASE}/blob/{SHA1}/pkg/a.py#L4)" in block
    assert '    x-axis "date of the analysed commit" ["11-29", "11-30"]' in block
    assert "    line [5, 3]" in block
    match = re.search(r"<!-- ssot-bot:inventory-history (\{.*\}) -->", block)
    assert match is not None
    assert json.loads(match.group(1)) == {"points": [
        {"date": "2026-11-29", "sha": SHA2, "total": 5},
        {"date": "2026-11-30", "sha": SHA1, "total": 3}]}


def test_hostile_paths_are_not_rendered_as_markdown() -> None:
    for path in ["a`b.py", "x<!-- ssot-bot:inventory end -->.py", "a|b.py", "[x](y).py\n"]:
        findings = {path: [("r", 1)]}
        result = summarise(findings, ["r"], sha=SHA1, date="2026-01-02", files_checked=1)
        block = render_block(result, [], html_base=BASE)
        assert block.count(END) == 1
        assert "(a file whose name is not shown)" in block
        assert "`" + path not in block


def test_local_block_has_no_links() -> None:
    block = render_block(inv(sha=""), [], html_base=None)
    assert "`working tree`" in block
    assert "`pkg/a.py` (line 4)" in block
    assert "http" not in block
    assert "mermaid" not in block  # no history, no chart


def test_too_large_block_says_so_without_counts() -> None:
    result = too_large(["r"], sha=SHA1, date="2026-01-02",
                       reason="more than 3 files to check (`limits.max_inventory_files`)")
    block = render_block(result, [], html_base=BASE)
    assert "too large to take the inventory" in block
    assert "more than 3 files to check" in block
    assert "| rule |" not in block


def test_notes_for_errors_and_large_files() -> None:
    block = render_block(inv(errors=2, skipped_large=1), [], html_base=BASE)
    assert "2 files could not be analysed" in block
    assert "1 file over `limits.max_file_bytes` skipped" in block


@pytest.mark.parametrize("totals, top", [([0], 1), ([3, 9], 10), ([12], 20), ([732], 800),
                                          ([1000], 2000)])
def test_chart_axis_covers_the_largest_total(totals: list[int], top: int) -> None:
    history = [Point("2026-01-01", f"{n:040x}", t) for n, t in enumerate([*totals, 0])]
    assert f'    y-axis "violations" 0 --> {top}' in render_chart(history)


# Mermaid's xychart grammar (docs: https://mermaid.js.org/syntax/xyChart.html), the subset we use.
_XY = [
    re.compile(r'%%\{init: \{"themeVariables": \{"xyChart": \{"plotColorPalette": '
               r'"#[0-9a-f]{6}"\}\}\}\}%%'),
    re.compile(r"xychart-beta"),
    re.compile(r' {4}title "[^"\n]*"'),
    re.compile(r' {4}x-axis "[^"\n]*" (?:\[("[^"\n]*")(, "[^"\n]*")*\]|1 --> \d+)'),
    re.compile(r' {4}y-axis "[^"\n]*" \d+ --> \d+'),
    re.compile(r" {4}line \[\d+(, \d+)*\]"),
]


def history_of(count: int, *, per_day: int = 1) -> list[Point]:
    """``count`` points, ``per_day`` of them each day, totals falling."""
    start = datetime.date(2026, 1, 1)
    return [Point((start + datetime.timedelta(days=n // per_day)).isoformat(),
                  f"{n:07x}" + "0" * 33, 700 - n) for n in range(count)]


@pytest.mark.parametrize("count", [2, 3, 12, 13, 15, MAX_POINTS])
def test_chart_follows_the_xychart_grammar(count: int) -> None:
    lines = render_chart(history_of(count))
    assert lines[0] == "```mermaid" and lines[-1] == "```"
    body = lines[1:-1]
    assert len(body) == len(_XY)
    for pattern, line in zip(_XY, body, strict=True):
        assert pattern.fullmatch(line), line


def test_no_chart_under_two_points() -> None:
    assert render_chart([]) == render_chart(history_of(1)) == []
    block = render_block(inv(sha="0" * 40), history_of(1), html_base=BASE)
    assert "mermaid" not in block and "starts with the next analysed commit" in block


def test_few_points_are_labelled_by_date_each_in_its_own_band() -> None:
    axis = render_chart(history_of(4, per_day=2))[4]
    assert axis == ('    x-axis "date of the analysed commit" '
                    '["01-01", "01-01 (2)", "01-02", "01-02 (2)"]')
    across_years = [Point("2025-12-31", "1" * 40, 3), Point("2026-01-01", "2" * 40, 2)]
    assert '["2025-12-31", "2026-01-01"]' in render_chart(across_years)[4]


def test_many_points_are_numbered_with_the_date_range_in_the_axis_title() -> None:
    axis = render_chart(history_of(MAX_POINTS, per_day=3))[4]
    assert axis == '    x-axis "analysed commits, 2026-01-01 to 2026-03-08" 1 --> 200'


def test_the_line_colour_is_set_for_light_and_dark_backgrounds() -> None:
    # Mermaid's default (#ECECFF on white) is invisible; GitHub's accent blue shows on both
    assert render_chart(history_of(2))[1] == CHART_INIT
    assert CHART_COLOR in CHART_INIT and CHART_COLOR.lower() != "#ececff"


# --- history ---------------------------------------------------------------------------------

def test_history_round_trips_and_drops_bad_points() -> None:
    body = replace_block("x", render_block(inv(), [Point("2026-11-30", SHA1, 3)], html_base=BASE))
    assert parse_history(body) == [Point("2026-11-30", SHA1, 3)]
    bad = (f'{START}\n<!-- ssot-bot:inventory-history {{"points": [{{"date": "2026-1-1", '
           f'"sha": "{SHA1}", "total": 1}}, {{"date": "2026-01-01", "sha": "xyz", "total": 1}}, '
           f'{{"date": "2026-01-01", "sha": "{SHA2}", "total": -1}}, '
           f'{{"date": "2026-01-01", "sha": "{SHA2}", "total": true}}, 7, '
           f'{{"date": "2026-01-01", "sha": "{SHA3}", "total": 4}}]}} -->\n{END}')
    assert parse_history(bad) == [Point("2026-01-01", SHA3, 4)]
    assert parse_history(f"{START}\n<!-- ssot-bot:inventory-history {{nope}} -->\n{END}") == []
    assert parse_history(None) == parse_history("no block") == []
    # a history outside the block is not ours
    assert parse_history('<!-- ssot-bot:inventory-history {"points": []} -->') == []


def test_add_point_updates_a_known_commit_and_keeps_at_most_200() -> None:
    history = [Point("2026-01-01", SHA1, 5)]
    assert add_point(history, Point("2026-01-02", SHA1, 4)) == [Point("2026-01-02", SHA1, 4)]
    many = [Point("2026-01-01", f"{n:040x}", n) for n in range(MAX_POINTS)]
    grown = add_point(many, Point("2026-01-02", SHA2, 1))
    assert len(grown) == MAX_POINTS
    assert grown[0].sha == f"{1:040x}" and grown[-1].sha == SHA2


def test_previous_total_skips_the_same_commit() -> None:
    history = [Point("2026-01-01", SHA2, 5), Point("2026-01-02", SHA1, 0)]
    assert previous_total(history, SHA1) == 5
    assert previous_total(history, SHA3) == 0
    assert previous_total([], SHA1) is None


# --- placing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("body, sep", [
    ("text\n", "\n"), ("text", "\n\n"), ("text\n\n", ""), ("", ""),
    ("a\r\nb\r\n", "\r\n"), ("a\r\nb", "\r\n\r\n"),
])
def test_first_block_is_appended_after_one_blank_line(body: str, sep: str) -> None:
    new, _ = update_body(body, inv(), html_base=BASE)
    assert new.startswith(body + sep + START)
    assert new.endswith(END)


def test_seed_body_bytes_stay_and_second_update_replaces_in_place() -> None:
    for seed in (SEED, SEED.replace("\n", "\r\n"), SEED.rstrip("\n"), SEED + "  \n\u00e9"):
        first, _ = update_body(seed, inv(sha=SHA1), html_base=BASE)
        assert first.startswith(seed)
        tail = "\nnotes after the block \u2705  \n"
        second, history = update_body(first + tail, inv(0, sha=SHA2), html_base=BASE)
        assert second.startswith(seed) and second.endswith(END + tail)
        assert [p.total for p in history] == [3, 0]
        assert second.count(START) == 1
        if "\r\n" in seed:
            block = second[second.index(START):second.index(END)]
            assert "\n" not in block.replace("\r\n", "")


def test_same_inventory_twice_changes_nothing() -> None:
    first, _ = update_body(SEED, inv(), html_base=BASE)
    again, _ = update_body(first, inv(), html_base=BASE)
    assert again == first


def test_block_in_the_middle_is_replaced_in_place() -> None:
    body = f"top\n{START}\nold\n{END}\nbottom"
    new = replace_block(body, f"{START}\nnew\n{END}")
    assert new == f"top\n{START}\nnew\n{END}\nbottom"


def test_a_stray_start_marker_does_not_swallow_text() -> None:
    body = f"top\n{START}\nkeep me\n{START}\nold\n{END}\nbottom"
    new = replace_block(body, f"{START}\nnew\n{END}")
    assert new == f"top\n{START}\nkeep me\n{START}\nnew\n{END}\nbottom"
    only_start = f"top\n{START}\nhalf"
    assert replace_block(only_start, "B") == only_start + "\n\nB"


def test_too_large_adds_no_point() -> None:
    first, history = update_body(SEED, inv(), html_base=BASE)
    result = too_large(["r1"], sha=SHA2, date="2026-12-01", reason="x")
    _, history = update_body(first, result, html_base=BASE)
    assert history == [Point("2026-11-30", SHA1, 3)]


def test_clear_comment_has_its_marker() -> None:
    text = clear_comment(SHA1, BASE)
    assert markers.inventory_clear(SHA1) in text and f"{BASE}/commit/{SHA1}" in text

"""The five real tracker bodies (``tests/tracking/examples``, copied byte for byte from
``shared/tracking-examples``) through a merge of a realistic step, compared byte for byte with
bodies written by hand (``tests/tracking/expected/example-*.md``)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from bot.tracking.edit import complete_steps, start_steps
from bot.tracking.messages import completion_comment, edit_problems
from bot.tracking.model import last_step, parse_checklist

HERE = Path(__file__).parent
MERGED = datetime.date(2025, 9, 20)
PR = 1210


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def example(name: str) -> str:
    return read(HERE / "examples" / name)


def expected(name: str) -> str:
    return read(HERE / "expected" / name)


CASES = [
    # (example, linked steps, expected body)
    ("01-netra-1103-websocket-factory-step1.md", ["2"], "example-01-after-step-2.md"),
    ("03-netra-1098-websocket-manager-factory-legacy.md", ["1"], "example-03-after-step-1.md"),
    ("09-netra-1078-jwt-step-headings.md", ["3"], "example-09-after-step-3.md"),
    ("15-netra-879-threadstate-bold-step-headings.md", ["1"], "example-15-after-step-1.md"),
]


def test_the_examples_are_the_real_bytes() -> None:
    shared = Path("/work/shared/tracking-examples")
    for path in sorted((HERE / "examples").glob("[0-9]*.md")):
        body = read(path)
        assert not body.endswith("\n") and "\r" not in body  # LF, no final newline
        if shared.is_dir():
            assert path.read_bytes() == (shared / path.name).read_bytes()


@pytest.mark.parametrize(("name", "steps", "want"), CASES)
def test_merge_of_a_step_gives_the_hand_written_body(name: str, steps: list[str],
                                                     want: str) -> None:
    body = example(name)
    edit = complete_steps(body, steps, pr_number=PR, merged_on=MERGED)
    assert edit.body == expected(want)
    assert edit.missing == () and edit.no_box == () and edit.unmatched == ()
    again = complete_steps(edit.body, steps, pr_number=PR, merged_on=MERGED)
    assert again.body == edit.body and not again.changed


def test_01_two_completed_sections_the_step_goes_to_the_last() -> None:
    edit = complete_steps(example(CASES[0][0]), ["2"], pr_number=PR, merged_on=MERGED)
    assert edit.ticked == ("2",) and edit.moved == ("2",)
    lines = edit.body.split("\n")
    second = [i for i, line in enumerate(lines) if line == "### \u2705 COMPLETED"][1]
    assert lines.index("- [x] **Step 2**: Execute test plan for SSOT validation (20% new tests)"
                       ) == second + 11


def test_03_uppercase_steps_emoji_after_the_words_and_a_next_heading() -> None:
    body = example(CASES[1][0])
    cl = parse_checklist(body)
    assert [s.id for s in cl.steps] == ["0", "1", "2", "3", "4", "5", "6"]
    assert cl.has_sections  # COMPLETED ✅ and IN PROGRESS 🔄, no PENDING
    assert cl.get("1") is not None and not cl.get("1").heading  # type: ignore[union-attr]
    # the task item wins over "### NEXT: STEP 1 - ..." in the work log
    assert "### NEXT: STEP 1 - DISCOVER AND PLAN TEST" in complete_steps(
        body, ["1"], pr_number=PR, merged_on=MERGED).body


def test_08_ordered_list_of_status_emoji_has_no_box_and_is_never_guessed() -> None:
    body = example("08-netra-1126-websocket-factory-ordered-list.md")
    assert parse_checklist(body).steps == ()
    assert not parse_checklist(body).is_tracking
    for step in ("6", "0", "1"):
        edit = complete_steps(body, [step], pr_number=PR, merged_on=MERGED)
        assert edit.body == body and not edit.changed
        assert edit.no_box == (step,)
        assert edit_problems("`#1126`", edit) == [
            f"Step {step} has no checkbox to tick (in `#1126`)"]
    assert last_step(body) is None


def test_09_heading_steps_and_sub_steps_under_them() -> None:
    body = example(CASES[2][0])
    cl = parse_checklist(body)
    by_id = {s.id: s for s in cl.steps}
    assert [s.id for s in cl.steps if s.heading] == ["0", "1", "2", "3", "4", "5", "6"]
    assert by_id["0"].checked and by_id["2"].checked and not by_id["1"].checked
    assert by_id["1.1"].parent == "1" and by_id["1.1"].checked
    assert by_id["4"].title == "Execute Remediation"
    assert last_step(body) == "6"
    # the open move: heading steps are never moved
    assert start_steps(body, ["4"]).body == body


def test_15_bold_heading_steps_closing_the_last_step() -> None:
    body = example(CASES[3][0])
    assert last_step(body) == "6"
    edit = complete_steps(body, ["6"], pr_number=PR, merged_on=MERGED)
    assert edit.body == expected("example-15-closed-by-pr.md")
    text = completion_comment(PR, ["6"], edit)
    assert text.startswith("\u2705 Step 6 completed via #1210.")


def test_15_sub_steps_roll_up_into_their_heading() -> None:
    body = example(CASES[3][0])
    first = complete_steps(body, ["1.1"], pr_number=PR, merged_on=MERGED)
    assert "### **STEP 1**: DISCOVER AND PLAN TEST (PENDING)" in first.body
    second = complete_steps(first.body, ["1.2"], pr_number=PR, merged_on=MERGED)
    assert "### **STEP 1**: DISCOVER AND PLAN TEST (COMPLETED)" in second.body
    assert second.completed == ("1",)

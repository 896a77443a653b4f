"""The checklist editor against the seed tracking issue and the edge cases of
docs/behaviour.md §5."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from bot.tracking.edit import complete_steps, start_steps
from bot.tracking.messages import (
    LINK_ERROR_MARKER,
    completion_comment,
    link_error_comment,
    step_done_marker,
)
from bot.tracking.model import parse_checklist

DATA = Path(__file__).parent.parent / "data"
EXPECTED = Path(__file__).parent / "expected"
MERGES = {
    1: datetime.date(2025, 9, 20),
    2: datetime.date(2025, 9, 25),
    3: datetime.date(2025, 10, 1),
    4: datetime.date(2025, 10, 8),
    5: datetime.date(2025, 10, 15),
    6: datetime.date(2025, 10, 22),
}
D = datetime.date(2025, 9, 20)


def read(path: Path) -> str:
    """Bytes decoded as UTF-8, nothing translated (CRLF stays CRLF)."""
    return path.read_bytes().decode("utf-8")


@pytest.fixture
def seed() -> str:
    return read(DATA / "tracking-issue-1103.md")


def expected(name: str) -> str:
    return read(EXPECTED / name)


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


# --- parsing ---------------------------------------------------------------------------------


def test_seed_steps_sections_and_parents(seed: str) -> None:
    cl = parse_checklist(seed)
    assert cl.has_sections
    assert [s.id for s in cl.steps] == ["0", "1", "1.1", "1.2", "2", "3", "4", "5", "6"]
    by_id = {s.id: s for s in cl.steps}
    assert by_id["0"].section == "completed" and by_id["0"].checked
    assert by_id["1"].section == "in_progress" and not by_id["1"].checked
    assert by_id["1.1"].parent == "1" and by_id["1.2"].parent == "1"
    assert by_id["1"].parent is None
    assert {by_id[i].section for i in "23456"} == {"pending"}
    assert by_id["3"].title == "Plan SSOT remediation strategy"
    assert by_id["1.1"].title == "Discover existing tests protecting WebSocket factory patterns"
    assert seed.split("\n")[by_id["2"].line_index].startswith("- [ ] **Step 2**")


def test_success_criteria_items_are_not_steps(seed: str) -> None:
    titles = [s.title for s in parse_checklist(seed).steps]
    assert not any("Golden Path" in t or "SSOT Compliance" in t for t in titles)


def test_get_accepts_step_word_and_returns_none_when_missing(seed: str) -> None:
    cl = parse_checklist(seed)
    step = cl.get("Step 2")
    assert step is not None and step.id == "2"
    assert cl.get("1.2") is not None
    assert cl.get("9") is None
    assert cl.get("not-a-step") is None


def test_bullets_boxes_and_plain_step_labels() -> None:
    body = (
        "* [X] Step 1: one\n"
        "+ [ ] **Step 2:** two\n"
        "  + [x] **2.1**: sub\n"
        "- [ ] Step 3 - three\n"
        "- [ ] Stepping stone: not a step\n"
        "- [ ] 2025 roadmap\n"
        "1. [ ] Step 4: ordered\n"
    )
    cl = parse_checklist(body)
    assert [(s.id, s.title, s.checked, s.parent) for s in cl.steps] == [
        ("1", "one", True, None),
        ("2", "two", False, None),
        ("2.1", "sub", True, "2"),
        ("3", "three", False, None),
        ("4", "ordered", False, None),
    ]
    assert not cl.has_sections


def test_fenced_code_blocks_hold_no_tasks_and_no_headings() -> None:
    body = (
        "### COMPLETED\n"
        "\n"
        "```markdown\n"
        "### PENDING\n"
        "- [ ] **Step 1**: fake\n"
        "```\n"
        "~~~\n"
        "- [ ] **Step 2**: fake too\n"
        "~~~\n"
    )
    cl = parse_checklist(body)
    assert cl.steps == ()
    assert not cl.has_sections


# --- the seed, step by step ------------------------------------------------------------------


def test_seed_through_every_transition(seed: str) -> None:
    body = seed
    for n in range(1, 7):
        edit = complete_steps(body, [str(n)], pr_number=1200 + n, merged_on=MERGES[n])
        assert edit.body == expected(f"after-step-{n}.md"), f"after Step {n}"
        assert edit.changed
        assert edit.moved == (str(n),)
        assert edit.missing == ()
        assert edit.ticked == (("1", "1.1", "1.2") if n == 1 else (str(n),))
        body = edit.body
    assert body.endswith("**Next Action**: All steps complete")


def _unowned(body: str) -> list[str]:
    owned = ("**Step ", "] 1.1:", "] 1.2:", "**Last Updated**:", "**Next Action**:")
    return [line for line in body.split("\n") if not any(o in line for o in owned)]


def test_expected_bodies_differ_only_in_owned_lines(seed: str) -> None:
    """Review aid for the spec files: consecutive bodies keep every other line, in order."""
    before = seed
    for n in range(1, 7):
        after = expected(f"after-step-{n}.md")
        assert _unowned(after) == _unowned(before)
        assert len(after.split("\n")) == len(before.split("\n"))
        assert after.count("[x]") - before.count("[x]") == (3 if n == 1 else 1)
        before = after


def test_start_step_2_on_the_seed(seed: str) -> None:
    edit = start_steps(seed, ["2"])
    assert edit.body == expected("started-step-2.md")
    assert edit.moved == ("2",) and edit.ticked == () and edit.changed


def test_start_is_a_no_op_outside_pending(seed: str) -> None:
    for steps in (["1"], ["1.1"], ["0"]):
        edit = start_steps(seed, steps)
        assert edit.body == seed and not edit.changed and edit.moved == ()


def test_start_moves_parent_of_a_sub_step_and_is_idempotent() -> None:
    body = (
        "## COMPLETED\n- [x] **Step 1**: a\n\n"
        "## IN PROGRESS\n\n"
        "## PENDING\n- [ ] **Step 2**: b\n  - [ ] 2.1: b1\n  - [ ] 2.2: b2\n- [ ] **Step 3**: c\n"
    )
    edit = start_steps(body, ["2.2", "3"])
    assert edit.body == (
        "## COMPLETED\n- [x] **Step 1**: a\n\n"
        "## IN PROGRESS\n- [ ] **Step 2**: b\n  - [ ] 2.1: b1\n  - [ ] 2.2: b2\n"
        "- [ ] **Step 3**: c\n\n"
        "## PENDING\n"
    )
    assert edit.moved == ("2", "3")
    again = start_steps(edit.body, ["2.2", "3"])
    assert again.body == edit.body and not again.changed


def test_start_does_not_touch_dates_or_status_lines(seed: str) -> None:
    edit = start_steps(seed, ["4"])
    assert edit.body.endswith(seed[seed.index("**Last Updated**") :])


# --- sub-steps -------------------------------------------------------------------------------


def test_sub_step_roll_up_one_pr_at_a_time(seed: str) -> None:
    first = complete_steps(seed, ["1.1"], pr_number=1301, merged_on=D)
    assert first.ticked == ("1.1",) and first.moved == ()
    assert "  - [x] 1.1: Discover" in first.body
    assert "- [ ] **Step 1**: Discover and Plan Test" in first.body
    assert "**Last Updated**: 2025-09-20 - Step 1.1 completed via #1301" in first.body
    assert first.body.endswith("**Next Action**: Begin Step 1 - Discover and Plan Test")

    second = complete_steps(first.body, ["1.2"], pr_number=1302, merged_on=D)
    assert second.ticked == ("1", "1.2") and second.moved == ("1",)
    assert second.body == expected("after-step-1.md").replace(
        "Step 1 completed via #1201", "Step 1.2 completed via #1302"
    )


def test_two_sub_steps_in_one_pr(seed: str) -> None:
    edit = complete_steps(seed, ["1.1", "1.2"], pr_number=1201, merged_on=D)
    assert edit.body == expected("after-step-1.md").replace(
        "Step 1 completed", "Steps 1.1, 1.2 completed"
    )


def test_several_steps_move_in_ascending_order_and_label_keeps_pr_order() -> None:
    body = expected("after-step-2.md")
    edit = complete_steps(body, ["4", "3"], pr_number=1234, merged_on=D)
    lines = edit.body.split("\n")
    i2 = lines.index("- [x] **Step 2**: Execute test plan for SSOT validation (20% new tests)")
    assert lines[i2 + 1] == "- [x] **Step 3**: Plan SSOT remediation strategy  "
    assert lines[i2 + 2] == "- [x] **Step 4**: Execute SSOT remediation"
    assert lines[i2 + 3] == ""
    assert lines[i2 + 4].endswith("IN PROGRESS  ")
    assert "**Last Updated**: 2025-09-20 - Steps 4, 3 completed via #1234" in edit.body
    assert edit.body.endswith(
        "**Next Action**: Begin Step 5 - Test fix loop - prove stability maintained"
    )
    assert edit.moved == ("3", "4")


# --- bytes that are not ours -----------------------------------------------------------------


def test_crlf_body(seed: str) -> None:
    edit = complete_steps(crlf(seed), ["1"], pr_number=1201, merged_on=MERGES[1])
    assert edit.body == crlf(expected("after-step-1.md"))
    started = start_steps(crlf(seed), ["2"])
    assert started.body == crlf(expected("started-step-2.md"))


def test_mixed_line_endings_stay_with_their_lines() -> None:
    body = (
        "### COMPLETED\n- [x] **Step 1**: a\r\n\n"
        "### IN PROGRESS\r\n- [ ] **Step 2**: b\r\n  - [ ] 2.1: c\n\r\n"
        "### PENDING\n- [ ] **Step 3**: d  \r\n"
    )
    edit = complete_steps(body, ["2"], pr_number=7, merged_on=D)
    assert edit.body == (
        "### COMPLETED\n- [x] **Step 1**: a\r\n- [x] **Step 2**: b\r\n  - [x] 2.1: c\n\n"
        "### IN PROGRESS\r\n\r\n"
        "### PENDING\n- [ ] **Step 3**: d  \r\n"
    )


def test_fake_tasks_in_code_fences_are_left_alone() -> None:
    body = (
        "### COMPLETED\n\n### IN PROGRESS\n\n### PENDING\n"
        "- [ ] **Step 2**: real\n"
        "  ```\n  - [ ] **Step 2**: fake inside the item\n  ```\n"
        "\n```\n- [ ] **Step 2**: fake\n**Last Updated**: never\n```\n"
    )
    edit = complete_steps(body, ["2"], pr_number=5, merged_on=D)
    assert edit.body == (
        "### COMPLETED\n"
        "- [x] **Step 2**: real\n"
        "  ```\n  - [ ] **Step 2**: fake inside the item\n  ```\n"
        "\n### IN PROGRESS\n\n### PENDING\n"
        "\n```\n- [ ] **Step 2**: fake\n**Last Updated**: never\n```\n"
    )


def test_issue_without_sections_only_ticks() -> None:
    body = (
        "Plan\n- [ ] **Step 1**: a\n  - [ ] 1.1: a1\n- [ ] **Step 2**: b\n\n"
        "**Last Updated**: old\n**Next Action**: old"
    )
    edit = complete_steps(body, ["1"], pr_number=9, merged_on=D)
    assert edit.body == (
        "Plan\n- [x] **Step 1**: a\n  - [x] 1.1: a1\n- [ ] **Step 2**: b\n\n"
        "**Last Updated**: 2025-09-20 - Step 1 completed via #9\n"
        "**Next Action**: Begin Step 2 - b"
    )
    assert edit.moved == ()


def test_status_lines_are_not_added_when_absent() -> None:
    body = "- [ ] **Step 1**: a\n- [ ] **Step 2**: b\n"
    edit = complete_steps(body, ["2"], pr_number=3, merged_on=D)
    assert edit.body == "- [ ] **Step 1**: a\n- [x] **Step 2**: b\n"


def test_missing_final_newline_when_the_moved_block_was_last() -> None:
    body = (
        "### COMPLETED\n- [x] **Step 1**: a\n\n### IN PROGRESS\n\n### PENDING\n"
        "- [ ] **Step 2**: b\n- [ ] **Step 3**: c"
    )
    edit = complete_steps(body, ["3"], pr_number=4, merged_on=D)
    assert edit.body == (
        "### COMPLETED\n- [x] **Step 1**: a\n- [x] **Step 3**: c\n\n### IN PROGRESS\n\n"
        "### PENDING\n- [ ] **Step 2**: b"
    )
    # and the whole section emptied, CRLF
    body2 = crlf(body)
    edit2 = complete_steps(body2, ["2", "3"], pr_number=4, merged_on=D)
    assert edit2.body == crlf(
        "### COMPLETED\n- [x] **Step 1**: a\n- [x] **Step 2**: b\n- [x] **Step 3**: c\n\n"
        "### IN PROGRESS\n\n### PENDING"
    )


def test_missing_final_newline_when_the_block_lands_at_the_end() -> None:
    body = (
        "### PENDING\n- [ ] **Step 2**: b\n  - [ ] 2.1: b1\n"
        "### IN PROGRESS\n### COMPLETED\n- [x] **Step 1**: a"
    )
    edit = complete_steps(body, ["2"], pr_number=4, merged_on=D)
    assert edit.body == (
        "### PENDING\n### IN PROGRESS\n### COMPLETED\n- [x] **Step 1**: a\n"
        "- [x] **Step 2**: b\n  - [x] 2.1: b1"
    )


def test_missing_final_newline_when_a_blank_line_is_left_last() -> None:
    # Found by the property test: the last block moves away from behind a blank line, into an
    # empty COMPLETED section directly followed by another heading. The body had no final
    # newline and keeps none: the blank line that stood in front of the block goes with the
    # block's separator (an unterminated empty last line would read as a final newline).
    body = (
        "- [ ] **Step 0**: A\n- [ ] **Step 1**: A\n# IN PROGRESS\n- [ ] **Step 3**: A\n"
        "  - [ ] 3.1: A\n- [ ] **Step 4**: A\n  - [ ] 4.1: A\n  - [ ] 4.2: A\n  - [ ] 4.3: A\n"
        "A\n# COMPLETED\n# Pending\n\n- [ ] **Step 2**: A\n  - [ ] 2.1: A"
    )
    edit = complete_steps(body, ["2"], pr_number=1, merged_on=D)
    assert edit.body == (
        "- [ ] **Step 0**: A\n- [ ] **Step 1**: A\n# IN PROGRESS\n- [ ] **Step 3**: A\n"
        "  - [ ] 3.1: A\n- [ ] **Step 4**: A\n  - [ ] 4.1: A\n  - [ ] 4.2: A\n  - [ ] 4.3: A\n"
        "A\n# COMPLETED\n- [x] **Step 2**: A\n  - [x] 2.1: A\n# Pending"
    )
    assert edit.moved == ("2",) and edit.ticked == ("2", "2.1")
    assert sorted(edit.body.replace("[x]", "[ ]") + "\n") == sorted(body)  # one blank line less
    again = complete_steps(edit.body, ["2"], pr_number=1, merged_on=D)
    assert again.body == edit.body and not again.changed
    # the same on open, CRLF: the parent of the linked sub-step moves to IN PROGRESS
    body2 = crlf(
        "### COMPLETED\n### IN PROGRESS\n- [ ] **Step 1**: a\n### PENDING\n\n"
        "- [ ] **Step 2**: b\n  - [ ] 2.1: b1"
    )
    edit2 = start_steps(body2, ["2.1"])
    assert edit2.body == crlf(
        "### COMPLETED\n### IN PROGRESS\n- [ ] **Step 1**: a\n- [ ] **Step 2**: b\n"
        "  - [ ] 2.1: b1\n### PENDING"
    )
    assert sorted(edit2.body + "\r\n") == sorted(body2)


def test_missing_step_ids_are_reported_and_the_rest_applied(seed: str) -> None:
    edit = complete_steps(seed, ["9", "1", "1.7"], pr_number=1201, merged_on=MERGES[1])
    assert edit.missing == ("9", "1.7")
    assert edit.body == expected("after-step-1.md")
    none_found = complete_steps(seed, ["9"], pr_number=1201, merged_on=MERGES[1])
    assert none_found.body == seed and not none_found.changed
    assert none_found.missing == ("9",) and none_found.ticked == ()


def test_completion_is_idempotent(seed: str) -> None:
    once = complete_steps(seed, ["1", "2"], pr_number=1201, merged_on=D)
    twice = complete_steps(once.body, ["1", "2"], pr_number=1201, merged_on=D)
    assert twice.body == once.body
    assert not twice.changed and twice.ticked == () and twice.moved == ()


def test_already_ticked_step_is_not_moved() -> None:
    body = "## COMPLETED\n\n## IN PROGRESS\n- [x] **Step 1**: a\n\n## PENDING\n"
    edit = complete_steps(body, ["1"], pr_number=2, merged_on=D)
    assert edit.body == body and not edit.changed


def test_completed_section_with_prose_after_the_list() -> None:
    body = (
        "## COMPLETED\nDone so far:\n- [x] **Step 1**: a\n  more about a\n\nA closing note.\n\n"
        "## IN PROGRESS\n- [ ] **Step 2**: b\n\n## PENDING\n"
    )
    edit = complete_steps(body, ["2"], pr_number=2, merged_on=D)
    assert edit.body == (
        "## COMPLETED\nDone so far:\n- [x] **Step 1**: a\n  more about a\n- [x] **Step 2**: b\n"
        "\nA closing note.\n\n## IN PROGRESS\n\n## PENDING\n"
    )


# --- comments --------------------------------------------------------------------------------


def test_step_done_marker() -> None:
    assert (
        step_done_marker(1201, ["1.1", "1.2"])
        == "<!-- ssot-bot:step-done pr=1201 steps=1.1,1.2 -->"
    )
    assert step_done_marker(7, ["4"]) == "<!-- ssot-bot:step-done pr=7 steps=4 -->"


def test_completion_comment_names_steps_pr_and_marker(seed: str) -> None:
    edit = complete_steps(seed, ["1", "8"], pr_number=1201, merged_on=D)
    text = completion_comment(1201, ["1", "8"], edit)
    assert "Step 1 completed via #1201" in text
    assert "8" in text.split("Not found")[1]
    assert text.endswith("<!-- ssot-bot:step-done pr=1201 steps=1,8 -->")
    assert "1.1, 1.2" in text  # the sub-items ticked along


def test_link_error_comment_lists_problems_and_marker() -> None:
    text = link_error_comment(["issue #9 not found", "step 7 not found in #1103"])
    assert "- issue #9 not found" in text and "- step 7 not found in #1103" in text
    assert text.endswith(LINK_ERROR_MARKER)
    assert LINK_ERROR_MARKER == "<!-- ssot-bot:link-error -->"


def test_a_block_never_lands_inside_an_unclosed_fence() -> None:
    # found by the property test: "````" is not closed by "```", so the rest is code
    body = (
        "- [ ] **Step 0**: a\n# IN PROGRESS\n# Pending\n# COMPLETED\n"
        "````md\n- [ ] **Step 3**: fake\n```\n# COMPLETED\n"
    )
    edit = complete_steps(body, ["0"], pr_number=1, merged_on=D)
    assert edit.body == (
        "# IN PROGRESS\n# Pending\n# COMPLETED\n- [x] **Step 0**: a\n"
        "````md\n- [ ] **Step 3**: fake\n```\n# COMPLETED\n"
    )
    step = parse_checklist(edit.body).get("0")
    assert step is not None and step.checked and step.section == "completed"

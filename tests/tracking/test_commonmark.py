"""The tracking editor reads the body's blocks as CommonMark does (markdown-it decides which
lines are headings, code, quotes and HTML; issue #19 item 3) and applies a merge idempotently
(issue #20 item 2)."""

from __future__ import annotations

import datetime

import pytest

from bot.tracking.edit import complete_steps, start_steps
from bot.tracking.model import parse_checklist

D = datetime.date(2025, 9, 20)


def merge(body: str, steps: list[str], pr: int = 5) -> str:
    return complete_steps(body, steps, pr_number=pr, merged_on=D).body


SETEXT = (
    "Progress\n========\n\n"
    "COMPLETED\n---------\n- [x] **Step 1**: Audit\n\n"
    "IN PROGRESS\n-----------\n- [ ] **Step 2**: Plan\n  - [ ] 2.1 sub\n\n"
    "PENDING\n-------\n- [ ] **Step 3**: Execute\n\n"
    "**Last Updated**: 2025-09-14 - Audit done  \n"
    "**Next Action**: Begin Step 2 - Plan  \n"
)


def test_a_setext_completed_section_gets_the_ticked_step_moved() -> None:
    edit = complete_steps(SETEXT, ["2"], pr_number=5, merged_on=D)
    assert edit.moved == ("2",)
    assert edit.body == (
        "Progress\n========\n\n"
        "COMPLETED\n---------\n- [x] **Step 1**: Audit\n- [x] **Step 2**: Plan\n"
        "  - [x] 2.1 sub\n\n"
        "IN PROGRESS\n-----------\n\n"
        "PENDING\n-------\n- [ ] **Step 3**: Execute\n\n"
        "**Last Updated**: 2025-09-20 - Step 2 completed via #5  \n"
        "**Next Action**: Begin Step 3 - Execute  \n"
    )


def test_a_setext_start_moves_from_pending_to_in_progress() -> None:
    edit = start_steps(SETEXT, ["3"])
    assert edit.moved == ("3",)
    assert "IN PROGRESS\n-----------\n- [ ] **Step 2**: Plan\n  - [ ] 2.1 sub\n" \
           "- [ ] **Step 3**: Execute\n\nPENDING\n-------\n\n" in edit.body


def test_a_setext_heading_step_is_completed_in_its_style() -> None:
    body = ("Step 4: Remediate (PENDING)\n---------------------------\n- [ ] 4.1 one\n"
            "- [ ] 4.2 two\n\nStep 5: Close\n=============\n- [ ] 5.1 close\n")
    assert [(s.id, s.heading) for s in parse_checklist(body).steps if s.heading] == [
        ("4", True), ("5", True)]
    assert merge(body, ["4"]) == body.replace("(PENDING)", "(COMPLETED)").replace(
        "- [ ] 4.", "- [x] 4.")


@pytest.mark.parametrize("trail", ["  ", "   ", "\t", " "])
@pytest.mark.parametrize("style", ["**Last Updated**: x", "**Last Updated:** x",
                                   "Last updated: x", "- **Last Updated**: x"])
def test_trailing_spaces_of_a_rewritten_footer_line_survive(style: str, trail: str) -> None:
    body = f"- [ ] **Step 1**: a\n\n{style}{trail}\r\n**Next Action**: y{trail}"
    new = merge(body, ["1"])
    updated, action = new.split("\n")[2:4]
    assert updated.endswith(f"2025-09-20 - Step 1 completed via #5{trail}\r")
    assert action == f"**Next Action**: All steps complete{trail}"


def test_an_emphasised_footer_keeps_its_closing_emphasis_and_break() -> None:
    body = "- [ ] **Step 1**: a\n\n*Last Updated: 2025-09-13*  \n"
    assert merge(body, ["1"]).endswith(
        "*Last Updated: 2025-09-20 - Step 1 completed via #5*  \n")


@pytest.mark.parametrize("code", [
    "Notes:\n\n    - [ ] **Step 1**: an indented code block\n",  # indented code
    "- a list\n\n  ```\n  - [ ] **Step 1**: in a fence inside a list item\n  ```\n",
    "<details>\n- [ ] **Step 1**: raw HTML, no Markdown\n</details>\n",  # HTML block
])
def test_steps_in_code_or_html_blocks_are_not_steps(code: str) -> None:
    body = code + "\n- [ ] **Step 1**: the real one\n"
    assert merge(body, ["1"]) == code + "\n- [x] **Step 1**: the real one\n"


def test_a_fence_closed_by_a_list_item_ending_is_closed_there() -> None:
    # CommonMark: the fence inside the item ends with the item; the fence at column 0 opens
    # a new code block, which holds the fake step
    body = ("- [ ] **Step 1**: real\n  ```\n  code\n```\n- [ ] **Step 2**: FAKE in a fence\n")
    assert [s.id for s in parse_checklist(body).steps] == ["1"]


def test_the_found_case_merging_twice_equals_merging_once() -> None:
    """Issue #20 item 2: a heading step 3 (PENDING) holding a 3.1 item, and a Step 4 task item
    in its block; the merge links 3.1 and 4. The first merge used to leave the heading PENDING
    (its roll-up was judged before Step 4's tick) and the same merge again made it COMPLETED."""
    body = "### Step 3: Plan (PENDING)\n- [ ] 3.1: a\n- [ ] **Step 4**: b\n"
    once = merge(body, ["3.1", "4"])
    assert once == "### Step 3: Plan (COMPLETED)\n- [x] 3.1: a\n- [x] **Step 4**: b\n"
    assert merge(once, ["3.1", "4"]) == once
    assert merge(body, ["4", "3.1"]) == once  # the order of the links does not matter


def test_next_action_counts_a_heading_step_its_merge_finishes() -> None:
    """Found by hypothesis: a heading step without a status is done once every box of its
    block is ticked; Next Action must judge it so on the first merge, not only when the same
    merge is applied again."""
    body = ("**Step 0**: A\n=====\n## **Step 2**: A\n- [ ] **Step 1**: A\n"
            "**Next Action**: old\n# COMPLETED\n# IN PROGRESS\n# Pending\n")
    once = merge(body, ["0"])
    assert "**Next Action**: All steps complete\n" in once
    assert merge(once, ["0"]) == once


def test_a_nested_roll_up_is_complete_after_one_merge() -> None:
    body = ("- [ ] **Step 1**: top\n  - [ ] 1.1 a\n    - [ ] 1.1.1 x\n  - [ ] 1.2 b\n"
            "- [ ] **Step 2**: next\n")
    once = merge(body, ["1.2", "1.1.1"])
    assert once.startswith("- [x] **Step 1**: top\n  - [x] 1.1 a\n    - [x] 1.1.1 x\n"
                           "  - [x] 1.2 b\n")
    assert merge(once, ["1.2", "1.1.1"]) == once

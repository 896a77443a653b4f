"""Every format of docs/behaviour.md §9 in a small body of its own: recognised, ticked, moved and
its footer rewritten in its own style; precedence, title links, boxless steps, sections."""

from __future__ import annotations

import datetime

import pytest

from bot.tracking.edit import complete_steps, start_steps
from bot.tracking.messages import edit_problems
from bot.tracking.model import is_title_link, last_step, parse_checklist

D = datetime.date(2025, 9, 20)


def body_with(step_line: str, *, completed: str = "## \u2705 COMPLETED",
              in_progress: str = "## \U0001f504 IN PROGRESS", pending: str = "## \u23f3 PENDING",
              footer: str = "**Last Updated**: old\n**Next Action**: old") -> str:
    return (f"# Tracker\n\n{completed}\n- [x] **Step 0**: Audit\n\n{in_progress}\n{step_line}\n"
            f"  - [ ] 1.1 Find tests\n  - [ ] 1.2: Plan tests\n\n{pending}\n"
            f"- [ ] **Step 2**: Execute\n\n---\n{footer}")


def after_with(ticked_line: str, *, completed: str = "## \u2705 COMPLETED",
               in_progress: str = "## \U0001f504 IN PROGRESS",
               pending: str = "## \u23f3 PENDING",
               footer: str = "**Last Updated**: 2025-09-20 - Step 1 completed via #7\n"
                             "**Next Action**: Begin Step 2 - Execute") -> str:
    return (f"# Tracker\n\n{completed}\n- [x] **Step 0**: Audit\n{ticked_line}\n"
            f"  - [x] 1.1 Find tests\n  - [x] 1.2: Plan tests\n\n{in_progress}\n\n{pending}\n"
            f"- [ ] **Step 2**: Execute\n\n---\n{footer}")


LABELS = [
    "- [ ] **Step 1**: Discover",
    "- [ ] **STEP 1:** DISCOVER",
    "- [ ] **Step 1: Discover** - PENDING",
    "- [ ] **Step 1:** Discover",
    "- [ ] STEP 1: DISCOVER (Pending)",
    "- [ ] Step 1 - Discover",
    "- [ ] Step 1 Discover",
    "- [ ] __Step 1__: Discover",
    "- [ ] step 1: discover",
    "* [ ] Phase 1: Discover",
    "+ [ ] Stage 1 - Discover",
    "1. [ ] **Step 1**: Discover",
    "- [ ] 1: Discover",
    "- [ ] \u23f3 **Step 1**: Discover",
]


@pytest.mark.parametrize("line", LABELS)
def test_every_label_style_is_ticked_and_moved(line: str) -> None:
    body = body_with(line)
    step = parse_checklist(body).get("1")
    assert step is not None and not step.checked and step.section == "in_progress"
    edit = complete_steps(body, ["1"], pr_number=7, merged_on=D)
    ticked = line.replace("[ ]", "[x]", 1)
    assert edit.body == after_with(ticked)
    assert edit.moved == ("1",) and set(edit.ticked) == {"1", "1.1", "1.2"}


@pytest.mark.parametrize("line", ["- [X] **Step 1**: Discover", "- [x] STEP 1: DISCOVER"])
def test_ticked_already_any_case_changes_nothing_but_the_footer(line: str) -> None:
    body = body_with(line).replace("  - [ ] 1.1", "  - [x] 1.1").replace("  - [ ] 1.2",
                                                                         "  - [x] 1.2")
    edit = complete_steps(body, ["1"], pr_number=7, merged_on=D)
    assert edit.ticked == () and edit.moved == ()
    assert edit.body == body.replace("**Last Updated**: old",
                                     "**Last Updated**: 2025-09-20 - Step 1 completed via #7"
                                     ).replace("**Next Action**: old",
                                               "**Next Action**: Begin Step 2 - Execute")


@pytest.mark.parametrize(("footer", "want"), [
    ("**Last Updated**: old\n**Next Action**: old",
     "**Last Updated**: 2025-09-20 - Step 1 completed via #7\n"
     "**Next Action**: Begin Step 2 - Execute"),
    ("**Last Updated:** old\n**Next Action:** old",
     "**Last Updated:** 2025-09-20 - Step 1 completed via #7\n"
     "**Next Action:** Begin Step 2 - Execute"),
    ("*Last Updated: 2025-09-13*\n*Next Action: old*",
     "*Last Updated: 2025-09-20 - Step 1 completed via #7*\n"
     "*Next Action: Begin Step 2 - Execute*"),
    ("_Last Updated: 2025-09-13_  \n_Next Action: old_",
     "_Last Updated: 2025-09-20 - Step 1 completed via #7_  \n"
     "_Next Action: Begin Step 2 - Execute_"),
    ("Last Updated: old\nnext action: old",
     "Last Updated: 2025-09-20 - Step 1 completed via #7\n"
     "next action: Begin Step 2 - Execute"),
    ("- **Last updated**: old", "- **Last updated**: 2025-09-20 - Step 1 completed via #7"),
    ("", ""),  # none: none added
])
def test_footer_in_every_style_is_rewritten_in_its_own_style(footer: str, want: str) -> None:
    line = "- [ ] **Step 1**: Discover"
    edit = complete_steps(body_with(line, footer=footer), ["1"], pr_number=7, merged_on=D)
    assert edit.body == after_with("- [x] **Step 1**: Discover", footer=want)


@pytest.mark.parametrize(("completed", "in_progress", "pending"), [
    ("### COMPLETED \u2705", "### IN PROGRESS \U0001f504", "### PENDING"),
    ("## Done", "## Current", "## Upcoming"),
    ("## \u2705", "## \U0001f504", "## \u23f3"),
    ("### \u2705 DONE", "### CURRENT WORK", "### NEXT"),
    ("## completed", "## in-progress", "## Planned"),
    ("## COMPLETED", "## In Progress", "## TODO"),
])
def test_section_words_and_emoji(completed: str, in_progress: str, pending: str) -> None:
    kw = {"completed": completed, "in_progress": in_progress, "pending": pending}
    body = body_with("- [ ] **Step 1**: Discover", **kw)
    assert parse_checklist(body).has_sections
    edit = complete_steps(body, ["1"], pr_number=7, merged_on=D)
    assert edit.body == after_with("- [x] **Step 1**: Discover", **kw)
    started = start_steps(body, ["2"])
    assert started.moved == ("2",)
    assert started.body.index("- [ ] **Step 2**") < started.body.index(pending)


def test_prose_headings_are_not_groups() -> None:
    body = ("## \u2705 MISSION ACCOMPLISHED\nWe did it.\n\n## Next Steps\nMore to come.\n\n"
            "## Plan\n- [ ] **Step 1**: a\n- [ ] **Step 2**: b\n")
    assert not parse_checklist(body).has_sections
    edit = complete_steps(body, ["1"], pr_number=7, merged_on=D)
    assert edit.body == body.replace("- [ ] **Step 1**", "- [x] **Step 1**")


def test_a_completed_heading_and_one_other_suffice_and_the_last_completed_wins() -> None:
    body = ("## COMPLETED\n- [x] **Step 0**: a\n\n## COMPLETED\n- [x] **Step 1**: b\n\n"
            "## IN PROGRESS\n- [ ] **Step 2**: c\n")
    edit = complete_steps(body, ["2"], pr_number=7, merged_on=D)
    assert edit.body == ("## COMPLETED\n- [x] **Step 0**: a\n\n## COMPLETED\n"
                         "- [x] **Step 1**: b\n- [x] **Step 2**: c\n\n## IN PROGRESS\n")


# --- sub-steps ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sub", ["- [ ] 5.1 Run and fix every test case",
                                 "- [ ] 5.1: Run and fix", "- [ ] **5.1:** Run and fix",
                                 "- [ ] STEP 5.1: RUN (Pending)", "- [ ] **Step 5.1:** Run"])
def test_sub_steps_with_or_without_colon(sub: str) -> None:
    body = f"- [ ] **Step 5**: Test loop\n  {sub}\n  - [ ] 5.2 Second\n"
    cl = parse_checklist(body)
    step = cl.get("5.1")
    assert step is not None and step.parent == "5"
    edit = complete_steps(body, ["5.1"], pr_number=3, merged_on=D)
    assert edit.body == body.replace(sub, sub.replace("[ ]", "[x]", 1))
    both = complete_steps(edit.body, ["5.2"], pr_number=3, merged_on=D)
    assert both.body == body.replace("[ ]", "[x]")  # the last sub-step ticks its parent


def test_not_steps() -> None:
    body = ("- [ ] 2025 roadmap\n- [ ] 3 apples\n- [ ] Stepping stone: x\n"
            "- [ ] 1.5x faster\n- [ ] **GitHub Issue**: Created issue #1103\n")
    assert parse_checklist(body).steps == ()


# --- heading steps ------------------------------------------------------------------------------


@pytest.mark.parametrize(("heading", "done"), [
    ("### Step 3: Plan SSOT Remediation \U0001f504 IN PROGRESS",
     "### Step 3: Plan SSOT Remediation \u2705 COMPLETED"),
    ("### **STEP 3**: PLAN REMEDIATION (PENDING)", "### **STEP 3**: PLAN REMEDIATION (COMPLETED)"),
    ("### Step 3: Plan \U0001f4cb PLANNED", "### Step 3: Plan \u2705 COMPLETED"),
    ("### \u23f3 Phase 3: PR and Closure", "### \u2705 Phase 3: PR and Closure"),
    ("### Step 3 - Plan (Pending)", "### Step 3 - Plan (Completed)"),
    ("### Stage 3: plan - todo", "### Stage 3: plan - completed"),
    ("### Step 3: Plan NOT STARTED  ", "### Step 3: Plan COMPLETED  "),
    ("### Step 3: Plan \u23f3", "### Step 3: Plan \u2705"),
    ("### Step 3: Plan", "### Step 3: Plan"),  # no status: its text stays
])
def test_heading_step_ticks_its_block_and_rewrites_its_status(heading: str, done: str) -> None:
    body = (f"# T\n\n{heading}\n- [ ] Remove the duplicate\n  - [ ] nested\n- [x] Already\n"
            "- [ ] 3.1 Sub-step\n\n### Step 4: Next (PENDING)\n- [ ] Later\n\n"
            "**Next Action**: old")
    cl = parse_checklist(body)
    three = cl.get("3")
    assert three is not None and three.heading and not three.checked
    assert cl.get("3.1") is not None and cl.get("3.1").parent == "3"  # type: ignore[union-attr]
    edit = complete_steps(body, ["3"], pr_number=9, merged_on=D)
    assert edit.body == (f"# T\n\n{done}\n- [x] Remove the duplicate\n  - [x] nested\n"
                         "- [x] Already\n- [x] 3.1 Sub-step\n\n### Step 4: Next (PENDING)\n"
                         "- [ ] Later\n\n**Next Action**: Begin Step 4 - Next")
    assert edit.moved == ()
    again = complete_steps(edit.body, ["3"], pr_number=9, merged_on=D)
    assert again.body == edit.body


def test_a_heading_block_ends_at_the_next_heading_of_its_level_or_higher() -> None:
    body = ("## Step 1: A (PENDING)\n- [ ] a\n### Details\n- [ ] b\n## Step 2: B (PENDING)\n"
            "- [ ] c\n")
    edit = complete_steps(body, ["1"], pr_number=1, merged_on=D)
    assert edit.body == ("## Step 1: A (COMPLETED)\n- [x] a\n### Details\n- [x] b\n"
                         "## Step 2: B (PENDING)\n- [ ] c\n")


# --- precedence -----------------------------------------------------------------------------


def test_task_item_wins_over_a_heading_naming_the_same_step() -> None:
    body = ("## IN PROGRESS\n- [ ] **STEP 1:** DISCOVER\n\n## Log\n### NEXT: STEP 1 - DISCOVER\n"
            "- [ ] a box in the log\n\n## STEP 2: RESULTS\n- [ ] r\n")
    edit = complete_steps(body, ["1"], pr_number=1, merged_on=D)
    assert edit.body == body.replace("- [ ] **STEP 1:**", "- [x] **STEP 1:**")
    # no task item carries 2: the heading names it
    assert complete_steps(body, ["2"], pr_number=1, merged_on=D).body == body.replace(
        "- [ ] r", "- [x] r")


def test_step_wins_over_phase_and_stage() -> None:
    body = "- [ ] Phase 2: plan\n- [ ] Step 2: do\n- [ ] Stage 2: other\n"
    edit = complete_steps(body, ["2"], pr_number=1, merged_on=D)
    assert edit.body == "- [ ] Phase 2: plan\n- [x] Step 2: do\n- [ ] Stage 2: other\n"
    only_phase = "- [ ] Phase 2: plan\n### Step 2: heading (PENDING)\n- [ ] y\n"
    assert complete_steps(only_phase, ["2"], pr_number=1, merged_on=D).body == (
        "- [x] Phase 2: plan\n### Step 2: heading (PENDING)\n- [ ] y\n")


def test_every_unticked_item_with_the_id_is_ticked() -> None:
    body = "## Plan\n- [ ] **Step 3**: a\n\n## Again\n- [ ] **Step 3**: a\n- [x] **Step 3**: b\n"
    edit = complete_steps(body, ["3"], pr_number=1, merged_on=D)
    assert edit.body == body.replace("[ ]", "[x]")


# --- title links and boxless steps --------------------------------------------------------------


UNNUMBERED = ("## Work\n- [ ] Discover existing tests\n- [ ] **Execute Remediation** of the "
              "factory\n- [ ] Execute remediation tests\n- [x] Done thing\n")


def test_title_link_ticks_the_one_item_that_begins_with_the_words() -> None:
    assert is_title_link('"Execute Remediation"')
    edit = complete_steps(UNNUMBERED, ['"Discover existing"'], pr_number=4, merged_on=D)
    assert edit.body == UNNUMBERED.replace("- [ ] Discover", "- [x] Discover")
    again = complete_steps(edit.body, ['"Discover existing"'], pr_number=4, merged_on=D)
    assert again.body == edit.body and again.unmatched == ()  # a replay is no error


def test_title_link_with_several_or_no_matches_lists_the_candidates() -> None:
    several = complete_steps(UNNUMBERED, ['"Execute Remediation"'], pr_number=4, merged_on=D)
    assert several.body == UNNUMBERED and several.unmatched[0].several
    [text] = edit_problems("`#5`", several)
    assert "`Execute Remediation` matches several unticked items of `#5`" in text
    assert "`**Execute Remediation** of the factory`" in text
    assert "`Execute remediation tests`" in text
    none = complete_steps(UNNUMBERED, ['"Deploy"'], pr_number=4, merged_on=D)
    assert none.body == UNNUMBERED
    [text] = edit_problems("`#5`", none)
    assert text.startswith("`Deploy` matches no unticked item of `#5`; its unticked items: ")
    assert "Done thing" not in text


@pytest.mark.parametrize("body", [
    "## Plan\n1. \u2705 **Step 0**: audit\n7. \u23f3 **Step 6**: PR and closure\n",
    "| Step | Status |\n|---|---|\n| Step 6 | \u23f3 |\n",
    "### Step 6: PR and Closure\nNothing to tick here.\n",
])
def test_a_step_without_a_box_is_reported_never_guessed(body: str) -> None:
    edit = complete_steps(body, ["6"], pr_number=1, merged_on=D)
    assert edit.body == body and edit.no_box == ("6",) and edit.missing == ()
    assert edit_problems("`#1`", edit) == ["Step 6 has no checkbox to tick (in `#1`)"]


def test_last_step_is_the_highest_top_level_step_with_a_box() -> None:
    assert last_step("- [ ] **Step 1**: a\n- [ ] **Step 6**: PR and closure\n  - [ ] 6.1 x\n"
                     ) == "6"
    assert last_step("- [ ] plain\n") is None


# --- line endings -------------------------------------------------------------------------------


def test_crlf_and_no_final_newline_with_a_heading_step_last() -> None:
    body = "## Step 1: a (PENDING)\r\n- [ ] x\r\n\r\n## Step 2: b \u23f3\r\n- [ ] y"
    edit = complete_steps(body, ["2"], pr_number=1, merged_on=D)
    assert edit.body == "## Step 1: a (PENDING)\r\n- [ ] x\r\n\r\n## Step 2: b \u2705\r\n- [x] y"


def test_moving_the_last_step_of_a_body_without_final_newline_keeps_none() -> None:
    body = "## COMPLETED\n- [x] **Step 1**: a\n\n## IN PROGRESS\n\n- [ ] **Step 2**: b"
    edit = complete_steps(body, ["2"], pr_number=1, merged_on=D)
    assert edit.body == "## COMPLETED\n- [x] **Step 1**: a\n- [x] **Step 2**: b\n\n## IN PROGRESS"
    assert not edit.body.endswith("\n")

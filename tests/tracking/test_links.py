"""Parsing `SSOT-Tracking:` / `SSOT-Step:` lines from pull request bodies."""

from __future__ import annotations

import re

import pytest

from bot.tracking.links import IssueRef, StepLink, link_problems, parse_links


def links(body: str | None) -> list[StepLink]:
    return parse_links(body, default_owner="netra-systems", default_repo="netra-apex")


def here(number: int) -> IssueRef:
    return IssueRef("netra-systems", "netra-apex", number)


@pytest.mark.parametrize(
    ("tracking", "issue"),
    [
        ("#1103", here(1103)),
        ("other-org/other.repo#12", IssueRef("other-org", "other.repo", 12)),
        ("https://github.com/netra-systems/netra-apex/issues/1103", here(1103)),
        ("https://github.com/o/r/issues/5#issuecomment-77", IssueRef("o", "r", 5)),
        ("https://ghe.example.com/o/r/issues/1103", IssueRef("o", "r", 1103)),
        ("<https://ghe.example.com/o/r/issues/8>", IssueRef("o", "r", 8)),
        ("[#1103](https://github.com/o/r/issues/1103)", IssueRef("o", "r", 1103)),
        ("1103", here(1103)),
        ("#1103 (websocket factory)", here(1103)),
    ],
)
def test_tracking_reference_forms(tracking: str, issue: IssueRef) -> None:
    assert links(f"Fixes things.\n\nSSOT-Tracking: {tracking}\nSSOT-Step: 4\n") == [
        StepLink(issue, ("4",))
    ]


@pytest.mark.parametrize(
    ("value", "steps"),
    [
        ("4", ("4",)),
        ("1.1", ("1.1",)),
        ("3, 4", ("3", "4")),
        ("3 4", ("3", "4")),
        ("3,4,3", ("3", "4")),
        ("Step 4", ("4",)),
        ("Steps 3 and 4", ("3", "4")),
        ("1.1, 1.2", ("1.1", "1.2")),
        ("#5", ("5",)),
        ("04", ("4",)),
    ],
)
def test_step_forms(value: str, steps: tuple[str, ...]) -> None:
    assert links(f"SSOT-Tracking: #1103\nSSOT-Step: {value}") == [StepLink(here(1103), steps)]
    assert link_problems(f"SSOT-Tracking: #1103\nSSOT-Step: {value}") == []


@pytest.mark.parametrize(
    "body",
    [
        "ssot-tracking: #1103\nssot-step: 2",
        "SSOT-TRACKING:#1103\r\nSSOT-STEP:2\r\n",
        "- SSOT-Tracking: #1103\n- SSOT-Step: 2",
        "  * **SSOT-Tracking**: #1103\n  * **SSOT-Step:** 2",
        "SSOT-Step: 2\n\nlots of text\n\nSSOT-Tracking: #1103",  # order-independent for one
    ],
)
def test_keys_are_case_insensitive_and_decorations_allowed(body: str) -> None:
    assert links(body) == [StepLink(here(1103), ("2",))]


@pytest.mark.parametrize("body", [None, "", "Just a fix.\n"])
def test_no_links(body: str | None) -> None:
    assert links(body) == []
    assert link_problems(body) == []


def test_code_fences_quotes_and_html_comments_are_ignored() -> None:
    body = (
        "```\nSSOT-Tracking: #1\nSSOT-Step: 1\n```\n"
        "~~~~\nSSOT-Step: 9\n~~~~\n"
        "> SSOT-Step: 2\n"
        ">SSOT-Tracking: #2\n"
        "<!-- template:\nSSOT-Tracking: #3\nSSOT-Step: 3\n-->\n"
        "<!-- SSOT-Step: 8 -->\n"
        "SSOT-Tracking: #1103\n"
        "SSOT-Step: 4\n"
    )
    assert links(body) == [StepLink(here(1103), ("4",))]
    assert link_problems(body) == []


def test_only_quoted_or_fenced_lines_give_nothing() -> None:
    assert links("> SSOT-Tracking: #1103\n> SSOT-Step: 2") == []
    assert links("```\nSSOT-Tracking: #1103\nSSOT-Step: 2\n```") == []


def test_several_step_lines_are_merged_and_deduplicated() -> None:
    body = "SSOT-Tracking: #1103\nSSOT-Step: 3\nSSOT-Step: 4, 3\n"
    assert links(body) == [StepLink(here(1103), ("3", "4"))]


def test_several_tracking_issues_pair_with_the_steps_that_follow() -> None:
    body = (
        "SSOT-Tracking: #1103\nSSOT-Step: 1.1\n\n"
        "SSOT-Tracking: acme/infra#7\nSSOT-Step: 2, 3\n"
        "SSOT-Tracking: #1103\nSSOT-Step: 1.2\n"  # same issue again: merged
    )
    assert links(body) == [
        StepLink(here(1103), ("1.1", "1.2")),
        StepLink(IssueRef("acme", "infra", 7), ("2", "3")),
    ]


def test_tracking_without_step_is_a_problem_not_a_link() -> None:
    assert links("SSOT-Tracking: #1103") == []
    assert link_problems("SSOT-Tracking: #1103") == [
        "SSOT-Tracking `#1103` given without SSOT-Step"]


def test_step_without_tracking_is_a_problem_not_a_link() -> None:
    assert links("SSOT-Step: 4") == []
    assert link_problems("SSOT-Step: 4") == ["SSOT-Step given without SSOT-Tracking"]


def test_bad_step_ids_are_reported_and_good_ones_kept() -> None:
    body = "SSOT-Tracking: #1103\nSSOT-Step: 4, four, 1.x\n"
    assert links(body) == [StepLink(here(1103), ("4",))]
    problems = link_problems(body)
    assert any("bad step id `four`" in p for p in problems)
    assert any("bad step id `1.x`" in p for p in problems)


def test_only_bad_step_ids_give_no_link() -> None:
    body = "SSOT-Tracking: #1103\nSSOT-Step: soon\n"
    assert links(body) == []
    problems = link_problems(body)
    assert any("bad step id `soon`" in p for p in problems)
    assert any("without SSOT-Step" in p for p in problems)


def test_bad_or_empty_tracking_reference() -> None:
    problems = link_problems("SSOT-Tracking: the websocket issue\nSSOT-Step: 1")
    assert any("bad tracking reference `the websocket issue`" in p for p in problems)
    assert any("without SSOT-Tracking" in p for p in problems)
    assert link_problems("SSOT-Tracking:\nSSOT-Step:")  # both empty: reported, no crash
    assert links("SSOT-Tracking: https://github.com/o/r/pull/5\nSSOT-Step: 1") == []


def test_step_before_the_first_of_several_trackings_is_a_problem() -> None:
    body = "SSOT-Step: 9\nSSOT-Tracking: #1\nSSOT-Step: 1\nSSOT-Tracking: #2\nSSOT-Step: 2\n"
    assert links(body) == [StepLink(here(1), ("1",)), StepLink(here(2), ("2",))]
    assert any("line 1" in p for p in link_problems(body))


def test_mentions_in_prose_are_not_links() -> None:
    body = "Remember to add `SSOT-Step: 4` and SSOT-Tracking: #1 to the body."
    assert links(body) == []


@pytest.mark.parametrize("keyword", ["Closes", "closes", "CLOSE", "closed", "Fix", "fixes",
                                     "Fixed", "resolve", "Resolves", "resolved", "Fixes:"])
def test_closing_keywords_link_the_issue(keyword: str) -> None:
    assert links(f"This work. {keyword} #1098 at last") == [
        StepLink(here(1098), (), closing=True)]


@pytest.mark.parametrize(("text", "issue"), [
    ("Closes acme/infra#7", IssueRef("acme", "infra", 7)),
    ("fixes https://github.com/acme/infra/issues/8", IssueRef("acme", "infra", 8)),
    ("Resolves #5, closes #6", here(5)),
])
def test_closing_keyword_reference_forms(text: str, issue: IssueRef) -> None:
    assert links(text)[0] == StepLink(issue, (), closing=True)


@pytest.mark.parametrize("body", [
    "Prefixes #12", "`Closes #12`", "> Closes #12", "```\nCloses #12\n```",
    "<!-- Closes #12 -->", "Closes the gap in #12", "closes#12", "Unfixed #3",
])
def test_not_closing_keywords(body: str) -> None:
    assert links(body) == []


def test_closing_link_takes_the_step_line_when_no_tracking_line_claims_it() -> None:
    assert links("Closes #1103\n\nSSOT-Step: 6") == [StepLink(here(1103), ("6",), closing=True)]
    assert link_problems("Closes #1103\n\nSSOT-Step: 6") == []
    # an explicit tracking link to the same issue wins: no second, closing link
    assert links("Closes #1103\nSSOT-Tracking: #1103\nSSOT-Step: 2") == [
        StepLink(here(1103), ("2",))]


def test_quoted_step_titles_link_unnumbered_items() -> None:
    assert links('SSOT-Tracking: #9\nSSOT-Step: "Execute Remediation"') == [
        StepLink(here(9), ('"Execute Remediation"',))]
    assert links("SSOT-Tracking: #9\nSSOT-Step: \u201cRun  tests\u201d, 4") == [
        StepLink(here(9), ('"Run tests"', "4"))]


def test_problems_echo_user_text_only_in_code_spans() -> None:
    problems = link_problems("SSOT-Tracking: see @org/team [x](https://evil.example)\n"
                             "SSOT-Step: <img src=x>")
    text = "\n".join(problems)
    assert "`see @org/team [x](https://evil.example)`" in text
    assert "`<img`" in text
    outside = re.sub(r"`[^`]*`", "", text)
    assert "@" not in outside and "](" not in outside and "<" not in outside

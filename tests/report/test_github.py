"""Check run output and review built from engine results (docs/behaviour.md §4.3-4.4)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pytest

from bot import markers
from bot.config.model import Config, ConfigProblem, Rule, Severity
from bot.engine.model import FileError, Violation
from bot.report.github import (
    ANNOTATION_LEVEL,
    RECHECK_ACTION,
    ReviewPlan,
    annotation_batches,
    check_run_report,
    comment_body,
    invalid_config_report,
    plan_review,
    review_body,
)

LIMIT = 65_535
RULE = Rule(id="ws-legacy-import", kind="banned-import",
            message="Use the AgentWebSocketBridge factory (SSOT), not WebSocketManager.")
NOTE_RULE = Rule(id="ws-annotation", kind="banned-annotation", message="m", severity="warning")
CONFIG = Config(rules=(RULE, NOTE_RULE))
SUGGESTION = ("from netra_backend.app.services.agent_websocket_bridge import "
              "create_agent_websocket_bridge")


def v(line: int = 46, *, end_line: int | None = None, column: int = 1, end_column: int = 20,
      new: bool = True, severity: Severity = "error", rule: str = "ws-legacy-import",
      path: str = "netra_backend/app/agents/x.py", fp: str | None = None,
      suggestion: str | None = None, message: str = RULE.message) -> Violation:
    return Violation(rule=rule, kind="banned-import", path=path, line=line, column=column,
                     end_line=line if end_line is None else end_line, end_column=end_column,
                     severity=severity, message=message, new=new,
                     fingerprint=fp if fp is not None else f"{abs(hash((path, line, rule))):016x}",
                     suggestion=suggestion)


# ------------------------------------------------------------------ title and conclusion


@pytest.mark.parametrize(("count", "title"), [
    (0, "No new SSOT violations"), (1, "1 new SSOT violation"), (2, "2 new SSOT violations"),
    (12, "12 new SSOT violations"),
])
def test_title_counts_new_violations(count: int, title: str) -> None:
    violations = [v(line=i + 1) for i in range(count)] + [v(line=999, new=False)]
    assert check_run_report(violations, [], CONFIG, files_checked=3).title == title


def test_title_counts_new_violations_of_every_severity() -> None:
    violations = [v(1, severity="error"), v(2, severity="warning"), v(3, severity="notice")]
    assert check_run_report(violations, [], CONFIG, files_checked=1).title == (
        "3 new SSOT violations")


SEVERITIES: tuple[Severity, ...] = ("error", "warning", "notice")


@pytest.mark.parametrize("fail_on", ["new", "any", "never"])
@pytest.mark.parametrize("severity", SEVERITIES)
@pytest.mark.parametrize("new", [True, False])
def test_conclusion_for_every_policy(fail_on: Any, severity: Severity, new: bool) -> None:
    config = replace(CONFIG, fail_on=fail_on)
    report = check_run_report([v(severity=severity, new=new)], [], config, files_checked=1)
    fails = severity == "error" and (fail_on == "any" or (fail_on == "new" and new))
    assert report.conclusion == ("failure" if fails else "success")


@pytest.mark.parametrize("fail_on", ["new", "any", "never"])
def test_nothing_found_succeeds(fail_on: Any) -> None:
    report = check_run_report([], [], replace(CONFIG, fail_on=fail_on), files_checked=0)
    assert (report.conclusion, report.title, report.annotations, report.text) == (
        "success", "No new SSOT violations", [], None)


def test_one_failing_violation_among_many_fails() -> None:
    violations = [v(1, severity="warning"), v(2, new=False), v(3, severity="error")]
    assert check_run_report(violations, [], CONFIG, files_checked=1).conclusion == "failure"


def test_file_errors_alone_do_not_fail() -> None:
    report = check_run_report([], [FileError("a.py", "does not parse")], CONFIG, files_checked=1)
    assert report.conclusion == "success"


# ------------------------------------------------------------------ summary


def test_summary_has_a_row_per_rule_with_new_and_preexisting_counts() -> None:
    violations = [v(1), v(2), v(3, new=False), v(4, rule="ws-annotation", severity="warning")]
    summary = check_run_report(violations, [], CONFIG, files_checked=7).summary
    assert "| `ws-legacy-import` | banned-import | error | 2 | 1 |" in summary
    assert "| `ws-annotation` | banned-annotation | warning | 1 | 0 |" in summary
    assert "| Rule | Kind | Severity | New | Pre-existing |" in summary
    assert "Files checked: 7" in summary
    assert "Files skipped: 0" in summary


def test_summary_counts_rules_missing_from_config() -> None:
    summary = check_run_report([v(rule="other-rule")], [], CONFIG, files_checked=1).summary
    assert "| `other-rule` | banned-import | error | 1 | 0 |" in summary


def test_summary_lists_skipped_files_with_their_messages() -> None:
    errors = [FileError("pkg/bad.py", "does not parse: line 3"),
              FileError("pkg/huge.py", "exceeded the 10 s analysis budget")]
    summary = check_run_report([], errors, CONFIG, files_checked=4).summary
    assert "Files skipped: 2" in summary
    assert "- `pkg/bad.py`: does not parse: line 3" in summary
    assert "- `pkg/huge.py`: exceeded the 10 s analysis budget" in summary


def test_skipped_files_have_their_own_label_not_the_fixed_line() -> None:
    errors = [FileError("pkg/bad.py", "does not parse: line 3")]
    summary = check_run_report([], errors, CONFIG, files_checked=4, fixed=2).summary
    fixed_at = summary.index("Fixed: 2 findings")
    label_at = summary.index("Skipped (1 file not analysed):\n\n- `pkg/bad.py`")
    assert fixed_at < label_at
    assert "\n\n" in summary[fixed_at:label_at]  # a paragraph of its own, not under Fixed:


def test_table_cells_cannot_break_the_table() -> None:
    summary = check_run_report([], [FileError("a|b.py", "x | y\nz")], CONFIG,
                               files_checked=1).summary
    assert "x \\| y z" in summary


def test_text_lists_new_then_preexisting_violations() -> None:
    text = check_run_report([v(46), v(98, new=False)], [], CONFIG, files_checked=1).text
    assert text is not None
    assert text.index("### New violations") < text.index("netra_backend/app/agents/x.py:46")
    assert text.index("### Pre-existing violations") < text.index(
        "netra_backend/app/agents/x.py:98")


def test_summary_and_text_stay_within_github_limit_on_huge_input() -> None:
    violations = [v(i, rule=f"rule-{i}", path=f"pkg/module_{i % 500}.py",
                    new=i % 3 != 0) for i in range(1, 100_001)]
    errors = [FileError(f"pkg/bad_{i}.py", "does not parse " * 20) for i in range(5_000)]
    report = check_run_report(violations, errors, CONFIG, files_checked=100_000)
    assert len(report.summary) <= LIMIT
    assert report.text is not None and len(report.text) <= LIMIT
    assert "more rows omitted" in report.summary
    assert "more rows omitted" in report.text
    assert report.title == "66667 new SSOT violations"
    # limits.max_annotations (1000): new violations first, the summary counts the rest
    assert len(report.annotations) == 1000
    assert all(a["annotation_level"] == "failure" for a in report.annotations)
    assert "104000 more findings not annotated" in report.summary
    # the sections after the cut table are still there
    assert "Files checked: 100000" in report.summary
    assert "Files skipped: 5000" in report.summary


def test_huge_single_message_is_clipped() -> None:
    report = check_run_report([], [FileError("a.py", "x" * 200_000)], CONFIG, files_checked=1)
    assert len(report.summary) <= LIMIT
    assert len(report.annotations[0]["message"].encode()) <= 64 * 1024


# ------------------------------------------------------------------ annotations


def test_single_line_annotation_has_columns() -> None:
    [a] = check_run_report([v(46, column=5, end_column=21)], [], CONFIG,
                           files_checked=1).annotations
    assert a == {
        "path": "netra_backend/app/agents/x.py", "start_line": 46, "end_line": 46,
        "start_column": 5, "end_column": 20, "annotation_level": "failure",
        "title": "ws-legacy-import", "message": RULE.message,
    }


def test_zero_width_single_line_columns_stay_ordered() -> None:
    [a] = check_run_report([v(3, column=5, end_column=5)], [], CONFIG, files_checked=1).annotations
    assert a["start_column"] <= a["end_column"]


def test_multi_line_annotation_has_no_columns() -> None:
    [a] = check_run_report([v(10, end_line=14, column=5, end_column=2)], [], CONFIG,
                           files_checked=1).annotations
    assert (a["start_line"], a["end_line"]) == (10, 14)
    assert "start_column" not in a and "end_column" not in a


@pytest.mark.parametrize("severity", SEVERITIES)
def test_new_annotation_level_follows_severity(severity: Severity) -> None:
    [a] = check_run_report([v(severity=severity)], [], CONFIG, files_checked=1).annotations
    assert a["annotation_level"] == ANNOTATION_LEVEL[severity]
    assert a["title"] == "ws-legacy-import"


@pytest.mark.parametrize("severity", SEVERITIES)
def test_preexisting_annotation_is_a_notice(severity: Severity) -> None:
    [a] = check_run_report([v(severity=severity, new=False)], [], CONFIG,
                           files_checked=1).annotations
    assert a["annotation_level"] == "notice"
    assert a["title"] == "ws-legacy-import (pre-existing)"


def test_annotation_with_suggestion_has_raw_details_and_a_hint() -> None:
    [a] = check_run_report([v(suggestion=SUGGESTION)], [], CONFIG, files_checked=1).annotations
    assert a["raw_details"] == SUGGESTION
    assert a["message"].startswith(RULE.message)
    assert "Suggested fix" in a["message"]


def test_annotation_without_suggestion_has_no_raw_details() -> None:
    [a] = check_run_report([v()], [], CONFIG, files_checked=1).annotations
    assert "raw_details" not in a


def test_file_errors_become_warning_annotations_at_line_1() -> None:
    report = check_run_report([v()], [FileError("pkg/bad.py", "not UTF-8 text")], CONFIG,
                              files_checked=2)
    assert len(report.annotations) == 2
    assert report.annotations[1] | {"title": None} == {
        "path": "pkg/bad.py", "start_line": 1, "end_line": 1, "annotation_level": "warning",
        "message": "not UTF-8 text", "title": None,
    }


def test_every_violation_is_annotated_in_order_new_ones_first() -> None:
    violations = [v(i, new=i % 2 == 0) for i in range(1, 8)]
    annotations = check_run_report(violations, [], CONFIG, files_checked=1).annotations
    assert [a["start_line"] for a in annotations] == [2, 4, 6, 1, 3, 5, 7]


def test_annotations_capped_new_then_skipped_files_then_preexisting() -> None:
    from dataclasses import replace

    from bot.config.model import Limits

    config = replace(CONFIG, limits=Limits(max_annotations=4))
    violations = [v(i, new=i <= 3) for i in range(1, 7)]
    errors = [FileError("big.py", "file not checked"), FileError("huge.py", "file not checked")]
    report = check_run_report(violations, errors, config, files_checked=3)
    assert [(a["path"], a["start_line"]) for a in report.annotations] == [
        (violations[0].path, 1), (violations[1].path, 2), (violations[2].path, 3),
        ("big.py", 1)]
    assert "4 more findings not annotated" in report.summary
    assert "at most 4 annotations" in report.summary


@pytest.mark.parametrize(("count", "sizes"), [
    (0, []), (1, [1]), (50, [50]), (51, [50, 1]), (120, [50, 50, 20]),
])
def test_annotation_batches(count: int, sizes: list[int]) -> None:
    annotations = [{"n": i} for i in range(count)]
    batches = annotation_batches(annotations)
    assert [len(b) for b in batches] == sizes
    assert list(itertools.chain.from_iterable(batches)) == annotations


def test_annotation_batches_custom_size_and_bad_size() -> None:
    assert [len(b) for b in annotation_batches([{}] * 5, size=2)] == [2, 2, 1]
    with pytest.raises(ValueError):
        annotation_batches([{}], size=0)


def test_recheck_action_fits_github_limits() -> None:
    assert RECHECK_ACTION["identifier"] == "recheck"
    assert RECHECK_ACTION["label"] == "Re-run SSOT"
    assert len(RECHECK_ACTION["label"]) <= 20
    assert len(RECHECK_ACTION["description"]) <= 40
    assert len(RECHECK_ACTION["identifier"]) <= 20


# ------------------------------------------------------------------ invalid configuration


def test_invalid_config_report_names_file_line_and_rule() -> None:
    problems = [ConfigProblem(".github/ssot.yml", 12, "ws-legacy-import", "unknown key 'symbol'"),
                ConfigProblem(".github/ssot.yml", 3, None, "fail_on must be new, any or never")]
    report = invalid_config_report(problems)
    assert (report.conclusion, report.title) == ("failure", "Invalid SSOT configuration")
    assert ".github/ssot.yml:12: [ws-legacy-import] unknown key 'symbol'" in report.summary
    assert ".github/ssot.yml:3: fail_on must be new, any or never" in report.summary
    assert report.annotations == []


def test_invalid_config_report_with_very_many_problems_fits() -> None:
    problems = [ConfigProblem("c.yml", i, f"r-{i}", "bad glob " * 10) for i in range(20_000)]
    summary = invalid_config_report(problems).summary
    assert len(summary) <= LIMIT
    assert "c.yml:0: [r-0]" in summary
    assert "more rows omitted" in summary


# ------------------------------------------------------------------ comment bodies and markers


def test_comment_body_matches_the_documented_shape() -> None:
    body = comment_body(v(fp="0123abcd0123abcd", suggestion=SUGGESTION))
    assert body == (
        "**ws-legacy-import** · error\n\n"
        "Use the AgentWebSocketBridge factory (SSOT), not WebSocketManager.\n\n"
        f"```suggestion\n{SUGGESTION}\n```\n\n"
        "<!-- ssot-bot:fingerprint=0123abcd0123abcd -->"
    )


def test_comment_body_without_suggestion_has_no_block() -> None:
    body = comment_body(v(fp="ab12"))
    assert "```" not in body
    assert body.endswith("\n\n<!-- ssot-bot:fingerprint=ab12 -->")


def test_empty_suggestion_is_still_a_suggestion() -> None:
    # "" means: delete the lines. GitHub renders an empty suggestion block as that.
    assert "```suggestion\n\n```" in comment_body(v(suggestion=""))


def test_suggestion_containing_fences_gets_a_longer_fence() -> None:
    suggestion = 'DOC = """\n```python\nx = 1\n```\n"""'
    body = comment_body(v(suggestion=suggestion))
    assert f"````suggestion\n{suggestion}\n````\n" in body


def test_huge_suggestion_is_dropped_not_cut() -> None:
    body = comment_body(v(fp="ff", suggestion="x = 1\n" * 20_000))
    assert "suggestion" not in body
    assert markers.fingerprints(body) == {"ff"}
    assert len(body) <= 65_536


@pytest.mark.parametrize("fp", ["0123abcd0123abcd", "a", "ABC-def_1.2"])
def test_marker_round_trips(fp: str) -> None:
    assert markers.fingerprints(markers.fingerprint(fp)) == {fp}
    assert markers.fingerprints(comment_body(v(fp=fp, suggestion=SUGGESTION))) == {fp}


def test_fingerprints_are_read_from_the_last_line_only() -> None:
    last = (f"{markers.fingerprint('aa')} {markers.fingerprint('bb')} "
            "<!-- ssot-bot:review head=1 -->")
    assert markers.fingerprints(f"intro\r\nmore\n\n{last}\n") == {"aa", "bb"}
    # a marker anywhere else (echoed text, a quoted line) is no marker
    assert markers.fingerprints(f"intro {markers.fingerprint('aa')}\nmore") == set()
    assert markers.fingerprints(f"{markers.fingerprint('aa')}\nmore") == set()
    assert markers.fingerprints(f"# {markers.fingerprint('aa')}") == set()
    assert markers.fingerprints(f"```\n{markers.fingerprint('aa')}") == set()
    assert markers.fingerprints("<!--ssot-bot:fingerprint=cc-->") == set()  # not the App's form
    assert markers.fingerprints(None) == set()
    assert markers.fingerprints("") == set()
    assert markers.fingerprints("ssot-bot:fingerprint=zz") == set()


# ------------------------------------------------------------------ review planning


def test_plan_review_comments_each_new_violation() -> None:
    violations = [v(46, fp="a"), v(98, fp="b", suggestion=SUGGESTION), v(120, fp="c", new=False)]
    plan = plan_review(violations, CONFIG, already_commented=set())
    assert plan is not None
    assert plan.event == "COMMENT"
    assert [c.violation.fingerprint for c in plan.comments] == ["a", "b"]
    assert plan.overflow == ()
    assert plan.comments[0].payload == {
        "path": "netra_backend/app/agents/x.py", "line": 46, "side": "RIGHT",
        "body": comment_body(violations[0]),
    }
    assert "```suggestion" in plan.comments[1].payload["body"]


def test_plan_review_multi_line_comment_has_start_line() -> None:
    plan = plan_review([v(10, end_line=13, fp="m")], CONFIG, already_commented=set())
    assert plan is not None
    payload = plan.comments[0].payload
    assert (payload["start_line"], payload["start_side"]) == (10, "RIGHT")
    assert (payload["line"], payload["side"]) == (13, "RIGHT")


def test_plan_review_single_line_comment_has_no_start_line() -> None:
    plan = plan_review([v(10, fp="s")], CONFIG, already_commented=set())
    assert plan is not None
    assert "start_line" not in plan.comments[0].payload
    assert "start_side" not in plan.comments[0].payload


def test_plan_review_skips_already_commented() -> None:
    plan = plan_review([v(1, fp="a"), v(2, fp="b")], CONFIG, already_commented={"a"})
    assert plan is not None
    assert [c.violation.fingerprint for c in plan.comments] == ["b"]


def test_plan_review_everything_already_commented_is_none() -> None:
    assert plan_review([v(1, fp="a")], CONFIG, already_commented={"a"}) is None


def test_plan_review_dedupes_by_fingerprint() -> None:
    plan = plan_review([v(1, fp="a"), v(1, fp="a"), v(2, fp="b")], CONFIG,
                       already_commented=set())
    assert plan is not None
    assert [c.violation.fingerprint for c in plan.comments] == ["a", "b"]


def test_plan_review_nothing_new_is_none() -> None:
    assert plan_review([], CONFIG, already_commented=set()) is None
    assert plan_review([v(new=False)], CONFIG, already_commented=set()) is None


@pytest.mark.parametrize(("mode", "event"), [("comment", "COMMENT"),
                                             ("request-changes", "REQUEST_CHANGES")])
def test_plan_review_event_per_mode(mode: Any, event: str) -> None:
    plan = plan_review([v()], replace(CONFIG, review=mode), already_commented=set())
    assert plan is not None and plan.event == event


def test_plan_review_off_is_none() -> None:
    assert plan_review([v()], replace(CONFIG, review="off"), already_commented=set()) is None


def test_plan_review_limit_sends_the_rest_to_overflow() -> None:
    violations = [v(i, fp=f"f{i}") for i in range(1, 8)]
    plan = plan_review(violations, replace(CONFIG, max_review_comments=3),
                       already_commented=set())
    assert plan is not None
    assert [c.violation.line for c in plan.comments] == [1, 2, 3]
    assert [o.line for o in plan.overflow] == [4, 5, 6, 7]


def test_plan_review_limit_zero_is_none() -> None:
    assert plan_review([v()], replace(CONFIG, max_review_comments=0),
                       already_commented=set()) is None


def test_plan_review_puts_errors_first_under_the_limit() -> None:
    violations = [v(1, fp="n", severity="notice"), v(2, fp="w", severity="warning"),
                  v(3, fp="e", severity="error")]
    plan = plan_review(violations, replace(CONFIG, max_review_comments=1),
                       already_commented=set())
    assert plan is not None
    assert [c.violation.fingerprint for c in plan.comments] == ["e"]
    assert [o.fingerprint for o in plan.overflow] == ["w", "n"]


def test_plan_review_commentable_filter() -> None:
    path = "netra_backend/app/agents/x.py"
    violations = [
        v(5, fp="in"),                      # line in the diff
        v(40, fp="out"),                    # line not in the diff
        v(6, end_line=8, fp="multi-in"),    # every line shown
        v(9, end_line=12, fp="multi-cut"),  # 11 is outside the hunk
        v(5, fp="other-file", path="other.py"),
    ]
    commentable = {path: frozenset({4, 5, 6, 7, 8, 9, 10, 12})}
    plan = plan_review(violations, CONFIG, already_commented=set(), commentable=commentable)
    assert plan is not None
    assert [c.violation.fingerprint for c in plan.comments] == ["in", "multi-in"]
    assert sorted(o.fingerprint for o in plan.overflow) == ["multi-cut", "other-file", "out"]


def test_plan_review_nothing_commentable_is_none() -> None:
    assert plan_review([v(5)], CONFIG, already_commented=set(),
                       commentable={"netra_backend/app/agents/x.py": frozenset()}) is None


def test_uncommentable_do_not_use_up_the_limit() -> None:
    violations = [v(1, fp="a"), v(2, fp="b"), v(3, fp="c")]
    commentable = {"netra_backend/app/agents/x.py": frozenset({2, 3})}
    plan = plan_review(violations, replace(CONFIG, max_review_comments=2),
                       already_commented=set(), commentable=commentable)
    assert plan is not None
    assert [c.violation.fingerprint for c in plan.comments] == ["b", "c"]
    assert [o.fingerprint for o in plan.overflow] == ["a"]


# ------------------------------------------------------------------ review body


def _plan(comments: int, overflow: int = 0) -> ReviewPlan:
    violations = [v(i, fp=f"fp{i}") for i in range(1, comments + overflow + 1)]
    plan = plan_review(violations, replace(CONFIG, max_review_comments=comments),
                       already_commented=set())
    assert plan is not None
    return plan


def test_review_body_counts() -> None:
    assert review_body(_plan(1)).startswith("ssot-bot found 1 new SSOT violation")
    body = review_body(_plan(2))
    assert body.startswith("ssot-bot found 2 new SSOT violations")
    assert markers.fingerprints(body) == set()


def test_review_body_mentions_overflow_without_markers() -> None:
    body = review_body(_plan(2, overflow=3), check_name="SSOT checks")
    assert "ssot-bot found 5 new SSOT violations" in body
    assert "3 more new violations are not commented inline" in body
    assert "`SSOT checks`" in body
    # overflow is not marked: a later review may still comment on those lines
    assert markers.fingerprints(body) == set()


def test_review_body_lists_rejected_with_markers() -> None:
    plan = _plan(3)
    rejected = [plan.comments[0].violation, plan.comments[2].violation]
    body = review_body(plan, rejected=rejected)
    assert markers.fingerprints(body) == {"fp1", "fp3"}
    assert f"`netra_backend/app/agents/x.py:1` **ws-legacy-import** {RULE.message}" in body
    assert "`netra_backend/app/agents/x.py:3`" in body
    assert "`netra_backend/app/agents/x.py:2`" not in body
    assert "1 commented inline" in body


def test_review_body_with_huge_rejected_list_fits() -> None:
    plan = _plan(1)
    rejected = [v(i, fp=f"{i:016x}", message="m" * 500) for i in range(5_000)]
    body = review_body(plan, rejected=rejected)
    assert len(body) <= 65_536 - 200
    assert "more rows omitted" in body

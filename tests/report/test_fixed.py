"""Pure parts of docs/behaviour.md §12: which of the bot's inline comments a new analysis marks
fixed and how."""

from __future__ import annotations

from typing import Any

from bot import markers
from bot.engine.model import Violation
from bot.report.github import (
    comment_body,
    fixed_comment_body,
    plan_fixed,
)

SHA = "0123456789abcdef0123456789abcdef01234567"


def violation(fp: str, path: str = "a.py", line: int = 3) -> Violation:
    return Violation(rule="ws-legacy-import", kind="banned-import", severity="error", path=path,
                     line=line, column=1, end_line=line, end_column=5,
                     message="Use the bridge.", fingerprint=fp)


def comment(cid: int, fp: str, path: str = "a.py") -> dict[str, Any]:
    return {"id": cid, "path": path, "body": comment_body(violation(fp, path))}


def test_fixed_body_is_the_line_then_the_original_with_the_marker_state() -> None:
    original = comment_body(violation("abc123"))
    body = fixed_comment_body(original, SHA)
    assert body.split("\n", 2)[:2] == ["✅ Fixed in 0123456", ""]
    assert body.split("\n", 2)[2] == original.replace(
        "<!-- ssot-bot:fingerprint=abc123 -->", "<!-- ssot-bot:fingerprint=abc123 state=fixed -->")
    assert markers.fingerprints(body) == set()  # no longer "already commented"
    assert markers.fixed_fingerprints(body) == {"abc123"}
    assert markers.fixed_fingerprints(original) == set()


def test_plan_marks_only_gone_findings_in_checked_files() -> None:
    own = [comment(1, "gone"), comment(2, "here"), comment(3, "skipped", path="big.py"),
           {"id": 4, "path": "a.py", "body": "a reply without a marker"}]
    plan = plan_fixed(own, found={"here"}, checked_paths={"a.py"}, head_sha=SHA)
    assert [(e.id, set(e.fingerprints)) for e in plan.edits] == [(1, {"gone"})]
    assert plan.edits[0].body == fixed_comment_body(own[0]["body"], SHA)
    assert plan.open == {"here", "skipped"}  # a file not looked at is not fixed
    assert plan.fixed == 1


def test_plan_never_edits_twice_and_a_comeback_is_not_already_commented() -> None:
    fixed_before = {"id": 1, "path": "a.py",
                    "body": fixed_comment_body(comment_body(violation("fp")), SHA)}
    plan = plan_fixed([fixed_before], found=set(), checked_paths={"a.py"}, head_sha=SHA)
    assert plan.edits == () and plan.open == frozenset() and plan.fixed == 1
    back = plan_fixed([fixed_before], found={"fp"}, checked_paths={"a.py"}, head_sha=SHA)
    assert back.edits == () and "fp" not in back.open and back.fixed == 0
    # the fresh comment for the comeback is open; fixed again later, it is edited once more
    again = plan_fixed([fixed_before, comment(2, "fp")], found=set(), checked_paths={"a.py"},
                       head_sha=SHA)
    assert [e.id for e in again.edits] == [2] and again.fixed == 1


def _review_body(*fps: str) -> str:
    rows = "\n".join(f"- `a.py:{i + 3}` **ws-legacy-import** Use the bridge."
                     for i in range(len(fps)))
    tags = " ".join(markers.fingerprint(fp) for fp in fps)
    return ("ssot-bot found 2 new SSOT violations.\n\nGitHub did not accept these as inline "
            f"comments:\n\n{rows}\n\n{tags} {markers.review(SHA, 1)}")


def test_findings_listed_in_a_review_body_are_planned_fixed_like_inline_ones() -> None:
    review = {"id": 9, "body": _review_body("gone", "kept")}
    plan = plan_fixed([], found={"kept"}, checked_paths={"a.py"}, head_sha=SHA,
                      own_reviews=[review])
    [edit] = plan.reviews
    assert (edit.id, edit.fingerprints) == (9, frozenset({"gone"}))
    assert "kept" in plan.open and plan.fixed == 1
    assert markers.fixed_fingerprints(edit.body) == {"gone"}
    assert markers.fingerprints(edit.body) == {"kept"}
    assert "- \u2705 Fixed in 0123456: `a.py:3`" in edit.body
    assert "\n- `a.py:4`" in edit.body  # the other finding's row is as it was
    # marked once: planned again over the edited body, nothing is left to edit
    again = plan_fixed([], found={"kept"}, checked_paths={"a.py"}, head_sha=SHA,
                       own_reviews=[{"id": 9, "body": edit.body}])
    assert again.reviews == () and again.fixed == 1


def test_a_review_body_finding_in_a_file_not_looked_at_is_not_fixed() -> None:
    review = {"id": 9, "body": _review_body("gone")}
    plan = plan_fixed([], found=set(), checked_paths={"b.py"}, head_sha=SHA,
                      own_reviews=[review])
    assert plan.reviews == () and "gone" in plan.open and plan.fixed == 0

"""Fixed findings say so (docs/behaviour.md §12).

After an analysis, each inline comment the App itself wrote whose finding is gone from the
files the analysis checked is edited once: ``✅ Fixed in <short sha>`` above the original text,
its marker with `` state=fixed``. A finding GitHub refused inline and the App listed in its
review's body is marked the same way, on its line of that body. Which comments and reviews, and
their new bodies, is the pure :func:`bot.report.github.plan_fixed`; this module only reads and
writes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import gidgethub

from bot import markers
from bot.engine.model import FileError, Violation
from bot.github.client import Repo
from bot.report.github import (
    FixedPlan,
    body_findings,
    fixed_comment_body,
    fixed_review_body,
    plan_fixed,
)

log = logging.getLogger(__name__)

MAX_LISTED_FILES = 3000  # GitHub lists at most this many files of a PR: past it, unknown


def checked_paths(files: Iterable[dict[str, Any]], errors: Iterable[FileError]) -> set[str]:
    """Files the analysis really looked at: checked, minus those skipped or unparsable."""
    return {str(f["filename"]) for f in files} - {e.path for e in errors}


async def plan(
    repo: Repo, number: int, head_sha: str, violations: Sequence[Violation],
    files: Iterable[dict[str, Any]], errors: Iterable[FileError],
    *, listed: Sequence[dict[str, Any]] | None = None,
) -> FixedPlan:
    """Read the PR's inline comments; keep the App's own (a marker pasted by anyone else,
    another bot included, counts for nothing) and plan what this analysis fixes.

    A finding is fixed only where the analysis could have seen it: a file it checked, or a
    file the PR no longer changes or deletes; never a file skipped (limits) or unparsable.
    ``listed``: the PR's whole file list when the caller has it (not read again)."""
    identity = await repo.identity()
    own = [c for c in await repo.review_comments(number) if identity.wrote(c)]
    # the App's reviews: their listed findings, and what they already commented (``open``)
    reviews = [r for r in await repo.reviews(number) if identity.wrote(r)]
    found = {v.fingerprint for v in violations if v.fingerprint}
    looked_at = checked_paths(files, errors)
    elsewhere = ({str(c.get("path")) for c in own if markers.fingerprints(c.get("body"))}
                 | {path for r in reviews for path, _ in body_findings(r.get("body"))}
                 ) - looked_at
    if elsewhere:
        # a file the PR no longer changes (reverted) or deletes holds none of its findings
        # any more; one GitHub lists as changed but the analysis skipped still may
        changed = listed if listed is not None else await repo.pull_files(number)
        if len(changed) < MAX_LISTED_FILES:
            still = {str(f["filename"]) for f in changed if f.get("status") != "removed"}
            looked_at |= elsewhere - still
    return plan_fixed(own, found, looked_at, head_sha, reviews)


async def apply(repo: Repo, number: int, head_sha: str, fixed: FixedPlan) -> int:
    """Mark each planned comment fixed, re-reading it first: a comment gone, no longer the
    App's, or already marked (a concurrent analysis) is left alone. Returns comments edited."""
    identity = await repo.identity()
    edited = 0
    for edit in fixed.edits:
        current = await repo.review_comment(edit.id)
        if current is None or not identity.wrote(current):
            continue
        body = current.get("body") or ""
        if not markers.fingerprints(body) or markers.fixed_fingerprints(body) >= edit.fingerprints:
            continue
        try:
            await repo.update_review_comment(edit.id, fixed_comment_body(body, head_sha))
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) not in (404, 422):
                raise
            log.warning("could not mark a review comment fixed",
                        extra={"pr": number, "comment": edit.id, "status": exc.status_code})
            continue
        edited += 1
    edited += await _apply_reviews(repo, number, head_sha, fixed)
    if edited:
        log.info("review comments marked fixed", extra={"pr": number, "comments": edited})
    return edited


async def _apply_reviews(repo: Repo, number: int, head_sha: str, fixed: FixedPlan) -> int:
    """Mark the planned findings of review bodies fixed, on the body as it is now (re-read):
    a review no longer the App's, or whose findings are marked already, is left alone."""
    if not fixed.reviews:
        return 0
    identity = await repo.identity()
    current = {r.get("id"): r for r in await repo.reviews(number) if identity.wrote(r)}
    edited = 0
    for edit in fixed.reviews:
        review = current.get(edit.id)
        if review is None:
            continue
        body = review.get("body") or ""
        still = {fp for _, fp in body_findings(body)} & edit.fingerprints
        if not still:
            continue
        try:
            await repo.update_review(number, edit.id, fixed_review_body(body, still, head_sha))
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) not in (403, 404, 422):
                raise
            log.warning("could not mark a review's findings fixed",
                        extra={"pr": number, "review": edit.id, "status": exc.status_code})
            continue
        edited += 1
    return edited


__all__ = ["apply", "checked_paths", "plan"]

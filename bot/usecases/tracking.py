"""Tracking issues (docs/behaviour.md §5, §8, §9): a merged PR ticks its linked steps; an opened /
reopened / edited / ready PR moves a PENDING step to IN PROGRESS; bad links get one comment on
the PR.

The use case, independent of how the PR arrived (a webhook in ``bot/handlers/tracking.py``, or
a catch-up pass): ``apply_merge`` and ``apply_start`` take the repository's full name and the
PR as the REST API (or a webhook's ``pull_request``) shows it. Issue bodies change only through
:func:`bot.usecases.issue_body.edit_body` (under the issue's lock: re-read, write, verify).

Who can make the bot write where (§8): a link names an issue of the PR's own repository or of a
repository the **base** branch's configuration lists under ``tracking.repositories``; anything
else writes nothing and gets one neutral sentence, whether that issue exists or not. The
open/edit move happens only for a PR author with write permission on the tracking issue's
repository; a merge always counts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import gidgethub

from bot.config.model import ConfigError, Tracking, is_repository_name
from bot.github.client import Repo
from bot.report.markdown import code_span
from bot.tracking.edit import complete_steps, start_steps
from bot.tracking.links import StepLink, link_problems, parse_links, ref_text
from bot.tracking.messages import (
    LINK_ERROR_MARKER,
    completion_comment,
    edit_problems,
    link_error_comment,
    neutral_problem,
    step_done_marker,
)
from bot.tracking.model import Edit, last_step, parse_checklist
from bot.usecases.issue_body import edit_body
from bot.usecases.permissions import Permissions
from bot.usecases.ports import IssueLocks, RepoFor
from bot.usecases.repo_config import load_repo_config

log = logging.getLogger(__name__)

NOT_ENABLED = "links to other repositories are not enabled"
INLINE_BODY = 4096  # characters of a PR body whose links are read on the loop (hostile: 2 ms)


@dataclass(frozen=True)
class TrackingParts:
    """What keeping tracking issues true uses."""

    repo: RepoFor
    issue_locks: IssueLocks
    permissions: Permissions


def _merged_on(pr: dict[str, Any]) -> dt.date:
    merged_at = pr.get("merged_at")
    if merged_at:
        return dt.datetime.fromisoformat(str(merged_at).replace("Z", "+00:00")).astimezone(
            dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True, slots=True)
class _Target:
    link: StepLink
    full_name: str  # the tracking issue's repository, as linked
    own: bool  # the PR's own repository

    @property
    def ref(self) -> str:
        """How the bot names the issue in its comments (a code span: it is user text)."""
        return code_span(f"{self.full_name}#{self.link.issue.number}" if not self.own
                         else f"#{self.link.issue.number}")


async def _tracking_config(parts: TrackingParts, installation_id: int, full_name: str,
                           pr: dict[str, Any]) -> Tracking:
    """``tracking:`` of the base branch's configuration (defaults when it is invalid)."""
    base = (pr.get("base") or {}).get("ref")
    if not base:
        return Tracking()
    try:
        config = await load_repo_config(parts.repo(installation_id, full_name), str(base))
    except ConfigError:
        return Tracking()
    return config.tracking


async def _authorise(
    parts: TrackingParts, installation_id: int, full_name: str, pr: dict[str, Any],
    links: list[StepLink],
) -> tuple[list[_Target], list[str], Tracking]:
    """The links the bot may follow, and one neutral sentence for each it may not."""
    own = full_name.lower()
    tracking: Tracking | None = None
    targets: list[_Target] = []
    problems: list[str] = []
    for link in links:
        linked = f"{link.issue.owner}/{link.issue.repo}"
        if linked.lower() == own:
            targets.append(_Target(link, full_name, True))
            continue
        if tracking is None:
            tracking = await _tracking_config(parts, installation_id, full_name, pr)
        if is_repository_name(linked) and linked.lower() in tracking.repositories:
            targets.append(_Target(link, linked, False))
        elif not link.closing:  # "Fixes other/repo#5" is ordinary GitHub use: no comment
            problems.append(f"{code_span(ref_text(link.issue))}: {NOT_ENABLED}")
    if tracking is None and any(t.link.closing and not t.link.steps for t in targets):
        tracking = await _tracking_config(parts, installation_id, full_name, pr)
    return targets, problems, tracking or Tracking()


async def pr_links(full_name: str, pr: dict[str, Any]) -> tuple[list[StepLink], list[str]]:
    """The tracking links of the PR's body and the problems to report about them; a body over
    :data:`INLINE_BODY` characters is read off the event loop (a 64 KiB body of links: ~80 ms).
    A short one is read at once: no thread hop delays the handlers of the same delivery."""
    if len(pr.get("body") or "") <= INLINE_BODY:
        return _links(full_name, pr)
    return await asyncio.to_thread(_links, full_name, pr)


def _links(full_name: str, pr: dict[str, Any]) -> tuple[list[StepLink], list[str]]:
    owner, _, name = full_name.partition("/")
    body = pr.get("body")
    return parse_links(body, default_owner=owner, default_repo=name), link_problems(body)


@functools.lru_cache(maxsize=8)
def _is_tracking(body: str) -> bool:
    """Whether ``body`` is a tracking issue's (one parse per body: the guard, the completion
    comment and the caller ask about the same text)."""
    return parse_checklist(body).is_tracking


async def _tracking_body(body: str) -> bool:
    """:func:`_is_tracking` off the event loop (a 64 KiB body with a setext heading takes
    ~0.4 s of markdown-it)."""
    return await asyncio.to_thread(_is_tracking, body)


def _unchanged(body: str) -> Edit:
    return Edit(body=body, changed=False, ticked=(), moved=(), missing=())


async def _apply(parts: TrackingParts, installation_id: int, target: _Target,
                 change: Callable[[str], Edit], *, write: bool = True,
                 then: Callable[[Repo, Edit], Awaitable[None]] | None = None,
                 ) -> tuple[Repo, Edit | None, list[str]]:
    """Run ``change`` on the linked issue, serialised per issue; problems to report."""
    repo = parts.repo(installation_id, target.full_name)
    number = target.link.issue.number

    def edited(body: str) -> tuple[str, Edit]:
        edit = change(body)
        return edit.body, edit

    try:
        edit = await edit_body(repo, parts.issue_locks, number, edited, write=write,
                               then=None if then is None else functools.partial(then, repo))
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) not in (403, 404, 410):
            raise
        if target.link.closing and not target.link.steps:
            return repo, None, []  # "Closes #N" to something that is not ours to edit
        if target.own:
            return repo, None, [f"tracking issue {target.ref} was not found"]
        steps = list(target.link.steps) or ["?"]
        return repo, None, [neutral_problem(target.ref, steps)]
    return repo, edit, edit_problems(target.ref, edit, neutral=not target.own)


def _closing_guard(target: _Target, change: Callable[[str], Edit],
                   tracking: Tracking) -> Callable[[str], Edit]:
    """A closing link acts only on a tracking issue; without steps it completes the last
    top-level step unless ``closing_step: none``."""
    if not target.link.closing:
        return change

    def guarded(body: str) -> Edit:
        if not _is_tracking(body):
            return _unchanged(body)
        return change(body)

    return guarded


async def _report(parts: TrackingParts, installation_id: int, full_name: str, number: int,
                  problems: list[str]) -> None:
    if problems:
        await parts.repo(installation_id, full_name).comment_once(
            number, link_error_comment(problems), marker=LINK_ERROR_MARKER)


async def apply_merge(parts: TrackingParts, installation_id: int, full_name: str,
                      pr: dict[str, Any], *, catch_up: bool = False) -> None:
    """A merged PR: tick its linked steps, say so once on each issue, report bad links.

    ``catch_up`` (docs/behaviour.md §12, the pass after downtime): the issue is edited only
    when a linked step is still unticked, so re-applying an older merge never rewrites the
    status lines a later merge wrote; the completion comment is still ensured once.
    """
    if not pr.get("merged") and not pr.get("merged_at"):
        return
    links, problems = await pr_links(full_name, pr)
    if not links and not problems:
        return
    number = int(pr["number"])
    merged_on = _merged_on(pr)
    targets, refused, tracking = await _authorise(parts, installation_id, full_name, pr, links)
    problems.extend(refused)
    for target in targets:
        pr_ref = None if target.own else f"{full_name}#{number}"
        steps = target.link.steps
        if target.link.closing and not steps and tracking.closing_step == "none":
            continue

        def complete(body: str, steps: tuple[str, ...] = steps,
                     pr_ref: str | None = pr_ref) -> Edit:
            wanted = steps
            if not wanted:
                last = last_step(body)
                if last is None:
                    return _unchanged(body)
                wanted = (last,)
            return complete_steps(body, wanted, pr_number=number, merged_on=merged_on,
                                  pr_ref=pr_ref)

        change = _closing_guard(target, complete, tracking)
        if catch_up:
            change = functools.partial(_only_if_unticked, change)

        async def say_done(repo: Repo, edit: Edit, steps: tuple[str, ...] = steps,
                           target: _Target = target, pr_ref: str | None = pr_ref) -> None:
            """The completion comment, inside the issue's lock (one per merge and steps)."""
            if target.link.closing and not await _tracking_body(edit.body):
                return
            linked = steps
            if not linked:
                last = await asyncio.to_thread(last_step, edit.body)
                if last is None:
                    return
                linked = (last,)
            if not edit.found_any(linked):
                return
            if await repo.comment_once(target.link.issue.number,
                                       completion_comment(number, linked, edit, pr_ref),
                                       marker=step_done_marker(number, linked)):
                log.info("tracking steps completed",
                         extra={"issue": target.link.issue.number, "steps": list(linked),
                                "pr": number})

        _, edit, found = await _apply(parts, installation_id, target, change, then=say_done)
        if edit is None or (target.link.closing and not await _tracking_body(edit.body)):
            problems.extend(found if edit is None else [])
            continue
        problems.extend(found)
    await _report(parts, installation_id, full_name, number, problems)


def _only_if_unticked(change: Callable[[str], Edit], body: str) -> Edit:
    edit = change(body)
    if edit.ticked or edit.completed:
        return edit
    return Edit(body=body, changed=False, ticked=(), moved=(), missing=edit.missing,
                no_box=edit.no_box, unmatched=edit.unmatched)


async def apply_start(parts: TrackingParts, installation_id: int, full_name: str,
                      pr: dict[str, Any]) -> None:
    """An opened / reopened / edited / ready PR: move its PENDING steps to IN PROGRESS, when
    its author may write to the tracking issue's repository (else only report bad links)."""
    links, problems = await pr_links(full_name, pr)
    if not links and not problems:
        return
    targets, refused, tracking = await _authorise(parts, installation_id, full_name, pr, links)
    problems.extend(refused)
    author = str((pr.get("user") or {}).get("login") or "")
    for target in targets:
        if not target.link.steps:
            continue  # a bare "Closes #N" names its step only at merge
        repo = parts.repo(installation_id, target.full_name)
        write = await parts.permissions.can_write(repo, author)
        start = _closing_guard(target, functools.partial(start_steps, steps=target.link.steps),
                               tracking)
        _, edit, found = await _apply(parts, installation_id, target, start, write=write)
        if edit is not None and target.link.closing and not await _tracking_body(edit.body):
            continue
        if not write:
            log.info("author may not write to the tracking repository; nothing moved",
                     extra={"issue": target.link.issue.number})
        problems.extend(found)
    await _report(parts, installation_id, full_name, int(pr["number"]), problems)

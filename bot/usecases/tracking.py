"""Tracking issues (docs/behaviour.md §5): a merged PR ticks its linked steps; an opened /
reopened / edited / ready PR moves a PENDING step to IN PROGRESS; bad links get one comment on
the PR.

The use case, independent of how the PR arrived (a webhook in ``bot/handlers/tracking.py``, or
a catch-up pass): ``apply_merge`` and ``apply_start`` take the repository's full name and the
PR as the REST API (or a webhook's ``pull_request``) shows it. ``edit_issue`` is the one way
to change an issue body (re-read, write, verify)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any

import gidgethub

from bot.github.client import Repo
from bot.service.context import Bot
from bot.tracking.checklist import (
    LINK_ERROR_MARKER,
    Edit,
    complete_steps,
    completion_comment,
    link_error_comment,
    start_steps,
    step_done_marker,
)
from bot.tracking.links import StepLink, link_problems, parse_links

log = logging.getLogger(__name__)

EDIT_ATTEMPTS = 6


async def edit_issue(repo: Repo, number: int, change: Callable[[str], Edit]) -> Edit:
    """Apply ``change`` to the issue body without losing a concurrent writer's update.

    Each attempt re-reads the issue, applies the (idempotent) change to the fresh body, writes,
    and reads back: if another writer got in between, the change is applied again on top.
    """
    delay = 0.2
    for _attempt in range(EDIT_ATTEMPTS):
        body = (await repo.issue(number)).get("body") or ""
        edit = change(body)
        if not edit.changed:
            return edit
        await repo.update_issue_body(number, edit.body)
        if ((await repo.issue(number)).get("body") or "") == edit.body:
            return edit
        log.info("tracking issue changed under us; re-applying", extra={"issue": number})
        await asyncio.sleep(delay)
        delay *= 2
    raise RuntimeError(f"issue #{number} kept changing; gave up after {EDIT_ATTEMPTS} attempts")


def _merged_on(pr: dict[str, Any]) -> dt.date:
    merged_at = pr.get("merged_at")
    if merged_at:
        return dt.datetime.fromisoformat(str(merged_at).replace("Z", "+00:00")).astimezone(
            dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


async def _apply(
    bot: Bot, installation_id: int, link: StepLink, change: Callable[[str], Edit]
) -> tuple[Repo, Edit | None, str | None]:
    """Run ``change`` on the linked issue, serialised per issue. Returns a problem on 404."""
    full_name = f"{link.issue.owner}/{link.issue.repo}"
    repo = bot.repo(installation_id, full_name)
    async with bot.issue_locks.hold((full_name.lower(), link.issue.number)):
        try:
            edit = await edit_issue(repo, link.issue.number, change)
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) in (404, 410):
                return repo, None, f"tracking issue {full_name}#{link.issue.number} was not found"
            raise
    problem = None
    if edit.missing:
        ids = ", ".join(edit.missing)
        problem = (f"{full_name}#{link.issue.number} has no step {ids}"
                   if len(edit.missing) == 1 else
                   f"{full_name}#{link.issue.number} has no steps {ids}")
    return repo, edit, problem


async def _report_link_problems(pr_repo: Repo, number: int, problems: list[str]) -> None:
    if problems:
        await pr_repo.comment_once(number, link_error_comment(problems), marker=LINK_ERROR_MARKER)


def _links(full_name: str, pr: dict[str, Any]) -> tuple[list[StepLink], list[str]]:
    owner, _, name = full_name.partition("/")
    body = pr.get("body")
    return parse_links(body, default_owner=owner, default_repo=name), link_problems(body)


async def apply_merge(bot: Bot, installation_id: int, full_name: str, pr: dict[str, Any], *,
                      catch_up: bool = False) -> None:
    """A merged PR: tick its linked steps, say so once on each issue, report bad links.

    ``catch_up`` (docs/behaviour.md §12, the pass after downtime): the issue is edited only
    when a linked step is still unticked, so re-applying an older merge never rewrites the
    status lines a later merge wrote; the completion comment is still ensured once.
    """
    if not pr.get("merged") and not pr.get("merged_at"):
        return
    links, problems = _links(full_name, pr)
    if not links and not problems:
        return
    number = pr["number"]
    merged_on = _merged_on(pr)
    for link in links:
        complete = functools.partial(complete_steps, steps=link.steps, pr_number=number,
                                     merged_on=merged_on)
        if catch_up:
            complete = functools.partial(_only_if_unticked, complete)
        repo, edit, problem = await _apply(bot, installation_id, link, complete)
        if problem:
            problems.append(problem)
        if edit is None or set(edit.missing) >= set(link.steps):
            continue
        if await repo.comment_once(link.issue.number, completion_comment(number, link.steps, edit),
                                   marker=step_done_marker(number, link.steps)):
            log.info("tracking steps completed",
                     extra={"issue": link.issue.number, "steps": list(link.steps), "pr": number})
    await _report_link_problems(bot.repo(installation_id, full_name), number, problems)


def _only_if_unticked(change: Callable[[str], Edit], body: str) -> Edit:
    edit = change(body)
    if edit.ticked:
        return edit
    return Edit(body=body, changed=False, ticked=(), moved=(), missing=edit.missing)


async def apply_start(bot: Bot, installation_id: int, full_name: str, pr: dict[str, Any]) -> None:
    """An opened / reopened / edited / ready PR: move its PENDING steps to IN PROGRESS."""
    links, problems = _links(full_name, pr)
    if not links and not problems:
        return
    for link in links:
        start = functools.partial(start_steps, steps=link.steps)
        _, _, problem = await _apply(bot, installation_id, link, start)
        if problem:
            problems.append(problem)
    await _report_link_problems(bot.repo(installation_id, full_name), pr["number"], problems)

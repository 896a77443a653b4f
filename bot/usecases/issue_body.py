"""The one writer of issue bodies (docs/behaviour.md §5.6, §11, §13).

Tracking (ticks, moves, footers) and the inventory (its block) change the same issue bodies;
both go through :func:`edit_body`: under the issue's lock, it re-reads the body, applies the
pure change to the fresh text (off the event loop), writes only when the text changed, and
reads back: when another writer (a person, another replica) got in between, the change is
applied again on top of what is there now. The change must be idempotent (applied to its own
result it changes nothing), so a repeated attempt or a redelivered event writes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.github import retry
from bot.github.client import Repo
from bot.github.retry import RetryPolicy
from bot.usecases.ports import IssueLocks

EDIT_ATTEMPTS = 6
FIRST_DELAY = 0.2  # seconds before the second attempt; doubled after each
#: The lost-race policy, run by the one retry loop (:func:`bot.github.retry.call`).
EDIT_POLICY = RetryPolicy(attempts=EDIT_ATTEMPTS, base_delay=FIRST_DELAY)

T = TypeVar("T")


def issue_key(full_name: str, number: int) -> tuple[str, int]:
    """The lock key of an issue: every writer of its body holds it."""
    return full_name.lower(), number


async def edit_body(repo: Repo, locks: IssueLocks, number: int,
                    change: Callable[[str], tuple[str, T]], *, write: bool = True,
                    then: Callable[[T], Awaitable[None]] | None = None) -> T:
    """Apply ``change`` (body -> (new body, what happened)) to issue ``number`` without losing
    a concurrent writer's update; returns what the applied attempt said. ``write=False`` only
    computes it (to report problems without writing). Raises ``gidgethub.BadRequest`` when the
    issue cannot be read or written (404, 410, ...), ``RuntimeError`` when the body kept
    changing under us for :data:`EDIT_ATTEMPTS` attempts. ``then(result)`` runs after the
    edit, still holding the issue's lock (a comment about the edit: posted once even when two
    replicas apply two merges at the same instant)."""

    async def attempt() -> T:
        body = (await repo.issue(number)).get("body") or ""
        # up to 64 KiB of Markdown parsed: off the event loop
        new, result = await asyncio.to_thread(change, body)
        if new != body and write:
            await repo.update_issue_body(number, new)
            if ((await repo.issue(number)).get("body") or "") != new:
                raise BodyChanged(number)
        if then is not None:
            await then(result)
        return result

    async with locks.hold(issue_key(repo.full_name, number)):
        try:
            return await retry.call(attempt, EDIT_POLICY, what=f"editing issue #{number}'s body",
                                    wait=_reapply_wait)
        except BodyChanged:
            raise RuntimeError(f"issue #{number} kept changing; gave up after {EDIT_ATTEMPTS} "
                               "attempts") from None


class BodyChanged(Exception):
    """Another writer changed the body between our write and its read-back."""


def _reapply_wait(exc: BaseException, attempt: int, policy: RetryPolicy) -> float | None:
    """Only a lost race is tried again (the change applied on top of the new body), after
    ``base_delay`` doubled per attempt; any other error is raised at once (the client's own
    requests are retried by the client)."""
    if isinstance(exc, BodyChanged):
        return policy.base_delay * 2.0 ** (attempt - 1)
    return None

"""One retry policy for every GitHub call (docs/behaviour.md §3), applied once per call.

How long to wait is GitHub's to say first: ``Retry-After``, then ``x-ratelimit-reset`` when the
primary limit is spent, then at least a minute for a secondary limit; otherwise exponential
backoff with jitter on 5xx and network errors. :func:`call` runs one call under the policy
(tenacity does the looping). Where it is applied, and nowhere else on top:

- every REST request of the client (:class:`bot.github.client.RetryingAPI`);
- a write GitHub may or may not have applied (a 5xx or a lost connection on a POST): the
  client's retry is off for it, and its caller probes for the write before sending it again
  (``Repo._post_verified``);
- a streamed archive download, which cannot resume: the inventory starts it over;
- an issue body edit that another writer raced (``bot.usecases.issue_body.edit_body``): the
  change is applied again on top of the new body, with that module's wait (no other error).

Jobs and webhook deliveries are not retried on top: a call that failed through its retries
fails the job (the check run says so and offers a re-run; a failed delivery can be redelivered;
the catch-up pass looks again).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
import gidgethub
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``max_wait`` caps one sleep: a reset an hour away is not waited on."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_wait: float = 120.0
    secondary_default_wait: float = 60.0  # GitHub: wait at least a minute when no Retry-After

    def backoff(self, attempt: int) -> float:
        """Seconds before try ``attempt + 1``: exponential, capped, with jitter."""
        delay = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not crypto


# Set while a write whose failure is ambiguous (did GitHub apply it?) is attempted: such a write
# is not retried blindly on 5xx or network errors; the caller probes for it first.
single_attempt: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "ssot_single_attempt", default=False)

#: GitHub stayed down or out of reach (through the retries, when raised from :func:`call`).
TRANSIENT: tuple[type[BaseException], ...] = (
    gidgethub.GitHubBroken, aiohttp.ClientError, TimeoutError)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value


def rate_limit_wait(
    status: int, headers: Mapping[str, str] | None, message: str, policy: RetryPolicy
) -> float | None:
    """Seconds to wait before retrying a rate-limited answer, or None when it is not one."""
    retry_after = _header(headers, "retry-after")
    if status in (403, 429):
        if retry_after is not None and retry_after.strip().isdigit():
            return float(retry_after)
        if _header(headers, "x-ratelimit-remaining") == "0":
            reset = _header(headers, "x-ratelimit-reset")
            if reset is not None and reset.isdigit():
                return max(0.0, float(reset) - time.time()) + 1.0
            return policy.secondary_default_wait
        if status == 429 or "secondary rate limit" in message.lower():
            return policy.secondary_default_wait
    return None


def github_wait(exc: BaseException, attempt: int, policy: RetryPolicy) -> float | None:
    """Seconds to wait before trying a call again after ``exc`` ended try ``attempt``; None:
    do not try again (a 4xx that is no rate limit, a wait past ``max_wait``, or a 5xx / network
    error of a write that is not to be repeated blindly)."""
    blind = not single_attempt.get()
    wait: float | None = None
    if isinstance(exc, gidgethub.HTTPException):
        status = int(exc.status_code)
        wait = rate_limit_wait(status, getattr(exc, "headers", None), str(exc), policy)
        if wait is None and status >= 500 and blind:
            wait = policy.backoff(attempt)
    elif isinstance(exc, (TimeoutError, aiohttp.ClientError)) and blind:
        wait = policy.backoff(attempt)
    if wait is None or wait > policy.max_wait:
        return None
    return wait


Wait = Callable[[BaseException, int, RetryPolicy], float | None]


async def call(fn: Callable[[], Awaitable[T]], policy: RetryPolicy, *, what: str,
               wait: Wait = github_wait,
               sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
    """``fn()``, tried up to ``policy.attempts`` times in all; before each new try, ``wait``
    (default: :func:`github_wait`) says how long to sleep, or None to raise the error."""
    waits: dict[int, float | None] = {}

    def decide(state: RetryCallState) -> float | None:
        if state.attempt_number not in waits:
            exc = state.outcome.exception() if state.outcome is not None else None
            waits[state.attempt_number] = (
                None if exc is None or not isinstance(exc, Exception)
                else wait(exc, state.attempt_number, policy))
        return waits[state.attempt_number]

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        log.warning("%s failed, retrying", what, extra={
            "error": type(exc).__name__, "status": getattr(exc, "status_code", None),
            "attempt": state.attempt_number, "delay": round(decide(state) or 0.0, 2)})

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        retry=lambda state: decide(state) is not None,
        wait=lambda state: decide(state) or 0.0,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )

    async def attempt() -> T:  # a coroutine function: tenacity awaits what it returns
        return await fn()

    return await retrying(attempt)

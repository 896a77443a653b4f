"""The one retry policy (bot/github/retry.py): GitHub's waits first, backoff on 5xx and network
errors, nothing on other 4xx, no blind repeat of an ambiguous write, and at most
``policy.attempts`` tries of a call."""

from __future__ import annotations

import time
from http import HTTPStatus

import aiohttp
import gidgethub
import pytest

from bot.github import retry
from bot.github.retry import RetryPolicy, github_wait

POLICY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, max_wait=90.0,
                     secondary_default_wait=60.0)


def _error(status: int, headers: dict[str, str] | None = None,
           message: str = "") -> gidgethub.HTTPException:
    cls = gidgethub.GitHubBroken if status >= 500 else gidgethub.BadRequest
    return cls(HTTPStatus(status), message, headers=headers or {})


def test_retry_after_is_waited_as_github_says() -> None:
    assert github_wait(_error(403, {"retry-after": "7"}), 1, POLICY) == 7.0


def test_a_spent_primary_limit_waits_for_its_reset() -> None:
    reset = str(int(time.time()) + 30)
    wait = github_wait(_error(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}),
                       1, POLICY)
    assert wait is not None and 25 <= wait <= 32


def test_a_secondary_limit_waits_a_minute_and_a_far_reset_is_not_waited_on() -> None:
    assert github_wait(_error(403, message="You have exceeded a secondary rate limit"), 1,
                       POLICY) == 60.0
    assert github_wait(_error(429, {"retry-after": "3600"}), 1, POLICY) is None  # > max_wait


def test_5xx_and_network_errors_back_off_other_4xx_do_not_retry() -> None:
    for exc in (_error(502), aiohttp.ClientConnectionError(), TimeoutError()):
        wait = github_wait(exc, 1, POLICY)
        assert wait is not None and 0 < wait <= POLICY.max_delay
    assert github_wait(_error(404), 1, POLICY) is None
    assert github_wait(_error(422), 1, POLICY) is None
    assert github_wait(ValueError("a bug"), 1, POLICY) is None


def test_an_ambiguous_write_is_not_repeated_blindly_but_a_rate_limit_still_waits() -> None:
    token = retry.single_attempt.set(True)
    try:
        assert github_wait(_error(502), 1, POLICY) is None
        assert github_wait(aiohttp.ClientConnectionError(), 1, POLICY) is None
        assert github_wait(_error(429, {"retry-after": "2"}), 1, POLICY) == 2.0
    finally:
        retry.single_attempt.reset(token)


async def _sleep(seconds: float) -> None:
    slept.append(seconds)


slept: list[float] = []


class _Failing:
    """A call that always fails with ``status``, counting its tries."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.tries = 0

    async def __call__(self) -> None:
        self.tries += 1
        raise _error(self.status)


async def test_a_call_is_tried_at_most_the_policy_s_attempts_then_raises() -> None:
    slept.clear()
    down = _Failing(502)
    with pytest.raises(gidgethub.GitHubBroken):
        await retry.call(down, POLICY, what="test", sleep=_sleep)
    assert down.tries == POLICY.attempts
    assert len(slept) == POLICY.attempts - 1


async def test_a_call_that_recovers_returns_and_a_4xx_is_raised_at_once() -> None:
    slept.clear()
    answers: list[object] = [_error(503), {"ok": True}]

    async def flaky() -> object:
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    assert await retry.call(flaky, POLICY, what="test", sleep=_sleep) == {"ok": True}
    assert len(slept) == 1
    missing = _Failing(404)
    with pytest.raises(gidgethub.BadRequest):
        await retry.call(missing, POLICY, what="test", sleep=_sleep)
    assert missing.tries == 1

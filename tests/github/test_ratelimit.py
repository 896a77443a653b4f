"""How fast the catch-up pass may spend an installation's rate limit (docs/behaviour.md §12)."""

from __future__ import annotations

import pytest

from bot.github.ratelimit import STOP, RateLimits, RateReading, pace


@pytest.mark.parametrize(("remaining", "reset_in", "cost", "expected"), [
    (5000, 3600, 1, 0.0),  # plenty
    (2500, 3600, 1, 0.0),  # half the limit left: no wait yet
    (1500, 100, 1, 0.1),  # 1000 above the 500 reserve, 100 s to the reset
    (1500, 100, 501, 0.2),  # an expensive step leaves 500 above the reserve
    (500, 10, 1, STOP),  # the reserve is for webhooks
    (40, 3600, 1, STOP),
    (600, 3600, 1, STOP),  # 36 s a request: over the 30 s cap, wait for a later pass
])
def test_pace(remaining: int, reset_in: float, cost: int, expected: float) -> None:
    now = 1_000_000.0
    got = pace(RateReading(5000, remaining, now + reset_in), now, cost=cost)
    assert got == pytest.approx(expected)


def test_pace_without_a_reading_or_after_the_reset_does_not_wait() -> None:
    assert pace(None, 10.0) == 0.0
    assert pace(RateReading(5000, 0, 5.0), 10.0) == 0.0
    assert pace(RateReading(200, 150, 100.0), 10.0) == 0.0  # small limits keep 100 in reserve
    assert pace(RateReading(200, 99, 100.0), 10.0) == STOP


def test_rate_limits_keep_the_latest_reading_per_installation_not_the_apps() -> None:
    limits = RateLimits(clock=lambda: 100.0)
    headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "600",
               "x-ratelimit-reset": "3700"}
    limits.observe("7", "https://api.github.com/repos/o/r/pulls", headers)
    limits.observe("7", "https://api.github.com/app/installations/7/access_tokens",
                   {**headers, "x-ratelimit-remaining": "4999"})
    limits.observe(None, "https://api.github.com/repos/o/r", headers)
    limits.observe("8", "https://api.github.com/repos/o/r", {"x-ratelimit-remaining": "x"})
    assert limits.reading("7") == RateReading(5000, 600, 3700.0)
    assert limits.reading("8") is None
    assert limits.delay("7") == STOP and limits.delay("8") == 0.0


def test_an_installation_under_a_tenth_of_any_of_its_limits_waits_for_that_reset() -> None:
    limits = RateLimits(clock=lambda: 100.0)
    headers = {"x-ratelimit-limit": "5000", "x-ratelimit-reset": "160"}
    limits.observe("1", "/repos/o/r", {**headers, "x-ratelimit-remaining": "600"})
    assert limits.low_until("1") is None
    limits.observe("1", "/graphql", {**headers, "x-ratelimit-remaining": "150",
                                     "x-ratelimit-resource": "graphql"})
    assert limits.low_until("1") == 160.0
    assert limits.reading("1") == RateReading(5000, 600, 160.0)  # core only
    assert limits.low_until("2") is None  # another installation's bucket
    limits.clock = lambda: 200.0  # past the reset: the reading says nothing any more
    assert limits.low_until("1") is None

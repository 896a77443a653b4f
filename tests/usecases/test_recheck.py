"""`/ssot recheck` is limited per repository, PR and user (docs/behaviour.md §6)."""

from __future__ import annotations

from bot.usecases.recheck import RecheckLimiter


def test_recheck_limiter_window_per_user_and_redelivery() -> None:
    now = [0.0]
    limiter = RecheckLimiter(limit=5, window=600.0, clock=lambda: now[0])
    assert all(limiter.allow("o/r", 1, "alice", i) for i in range(5))
    assert not limiter.allow("o/r", 1, "alice", 99)
    assert limiter.allow("o/r", 1, "Alice", 3)  # the same comment again is not counted
    assert limiter.allow("o/r", 1, "bob", 100)  # per user
    assert limiter.allow("o/r", 2, "alice", 101)  # per PR
    now[0] = 600.0
    assert limiter.allow("o/r", 1, "alice", 102)  # the window has passed

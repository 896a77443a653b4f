"""How often `/ssot recheck` may start an analysis (docs/behaviour.md §6): at most
``RECHECK_LIMIT`` comments per (repository, PR, user) in ``RECHECK_WINDOW`` seconds."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from cachetools import TTLCache

RECHECK_LIMIT = 5
RECHECK_WINDOW = 600.0  # seconds
MAX_TRACKED = 10_000  # (repo, PR, user) keys remembered at most


class Rechecks(Protocol):
    """Whether a `/ssot recheck` comment may start an analysis: in one process a
    :class:`RecheckLimiter`; across replicas the shared database's table (§15)."""

    async def admit(self, repo: str, pr: int, user: str, comment_id: int) -> bool: ...


class RecheckLimiter:
    """At most ``limit`` recheck comments per (repository, PR, user) in ``window`` seconds.
    A redelivered comment (same id) is not counted twice. A key is forgotten ``window``
    seconds after its last counted comment (its times are all stale by then)."""

    def __init__(self, *, limit: int = RECHECK_LIMIT, window: float = RECHECK_WINDOW,
                 clock: Callable[[], float] = time.monotonic,
                 tracked: int = MAX_TRACKED) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: TTLCache[tuple[str, int, str], deque[tuple[float, int]]] = TTLCache(
            tracked, window, timer=clock)

    def allow(self, repo: str, pr: int, user: str, comment_id: int) -> bool:
        now = self.clock()
        key = (repo.lower(), pr, user.lower())
        times = self._seen.get(key) or deque()
        while times and now - times[0][0] >= self.window:
            times.popleft()
        if any(cid == comment_id for _, cid in times):
            return True
        if len(times) >= self.limit:
            return False
        times.append((now, comment_id))
        self._seen[key] = times  # (re)set: expires a window after this comment
        return True

    async def admit(self, repo: str, pr: int, user: str, comment_id: int) -> bool:
        return self.allow(repo, pr, user, comment_id)

"""Who may make the bot act: collaborator permissions, asked of GitHub and cached briefly.

Used by the `/ssot recheck` command (:mod:`bot.handlers.issue_comment`) and by the tracking use
case (the open/edit move needs a PR author with write access to the tracking issue's
repository). One :class:`Permissions` per running service, built where it starts (a test's
service never sees another's answers).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TTLCache

from bot.github.client import Repo

PERMISSION_TTL = 60.0  # seconds a collaborator permission answer is trusted
PERMISSION_CACHE_SIZE = 4096
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})
_MISSING = object()


class Permissions:
    """``(repository, login) -> permission`` answers, each trusted for ``ttl`` seconds; at
    most ``size`` of them (the oldest go first)."""

    def __init__(self, *, ttl: float = PERMISSION_TTL, size: int = PERMISSION_CACHE_SIZE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._answers: TTLCache[tuple[str, str], str | None] = TTLCache(size, ttl, timer=clock)

    async def permission(self, repo: Repo, login: str) -> str | None:
        """The collaborator permission of ``login`` on ``repo`` (admin, write, read, none),
        None when not a collaborator (None is a real answer, cached like the others)."""
        key = (repo.full_name.lower(), login.lower())
        cached = self._answers.get(key, _MISSING)
        if cached is not _MISSING:
            assert cached is None or isinstance(cached, str)
            return cached
        value = await repo.permission(login)
        self._answers[key] = value
        return value

    async def can_write(self, repo: Repo, login: str) -> bool:
        """``login`` has write or admin permission on ``repo`` (maintain counts as write)."""
        if not login:
            return False
        return ((await self.permission(repo, login)) or "").strip().lower() in WRITE_PERMISSIONS

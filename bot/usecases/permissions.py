"""Who may make the bot act: collaborator permissions, asked of GitHub and cached briefly.

Used by the `/ssot recheck` command (:mod:`bot.handlers.issue_comment`) and by the tracking use
case (the open/edit move needs a PR author with write access to the tracking issue's
repository). The cache lives here, with the only code that reads it, one per running
:class:`~bot.service.context.Bot` (a test's service never sees another's answers).
"""

from __future__ import annotations

import time
import weakref

from bot.github.client import Repo
from bot.service.context import Bot

PERMISSION_TTL = 60.0  # seconds a collaborator permission answer is trusted
PERMISSION_CACHE_SIZE = 4096
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})


class PermissionCache:
    """``(repository, login) -> permission`` answers, each trusted for ``PERMISSION_TTL``;
    bounded: past ``PERMISSION_CACHE_SIZE`` entries the stale ones are dropped."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], tuple[float, str | None]] = {}

    def get(self, key: tuple[str, str]) -> tuple[bool, str | None]:
        """``(found, permission)``; None is a real answer (not a collaborator)."""
        cached = self._answers.get(key)
        if cached and time.monotonic() - cached[0] < PERMISSION_TTL:
            return True, cached[1]
        return False, None

    def put(self, key: tuple[str, str], value: str | None) -> None:
        now = time.monotonic()
        if len(self._answers) >= PERMISSION_CACHE_SIZE:
            for stale in [k for k, (at, _) in self._answers.items() if now - at >= PERMISSION_TTL]:
                del self._answers[stale]
            if len(self._answers) >= PERMISSION_CACHE_SIZE:
                self._answers.pop(next(iter(self._answers)))
        self._answers[key] = (now, value)


_caches: weakref.WeakKeyDictionary[Bot, PermissionCache] = weakref.WeakKeyDictionary()


async def permission(bot: Bot, repo: Repo, login: str) -> str | None:
    """The collaborator permission of ``login`` on ``repo`` (admin, write, read, none), None
    when not a collaborator; answers are cached briefly per running bot."""
    cache = _caches.setdefault(bot, PermissionCache())
    key = (repo.full_name.lower(), login.lower())
    found, cached = cache.get(key)
    if found:
        return cached
    value = await repo.permission(login)
    cache.put(key, value)
    return value


async def can_write(bot: Bot, repo: Repo, login: str) -> bool:
    """``login`` has write or admin permission on ``repo`` (maintain is reported as write)."""
    if not login:
        return False
    return ((await permission(bot, repo, login)) or "").strip().lower() in WRITE_PERMISSIONS

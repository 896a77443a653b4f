"""`/ssot ...` commands in pull request comments (docs/behaviour.md §6, §8).

One reply at most per comment, however many `/ssot` lines it holds; at most
``RECHECK_LIMIT`` `/ssot recheck` comments per user per PR in ``RECHECK_WINDOW`` seconds start
an analysis (beyond: reaction ``-1``, nothing else). Comments on plain issues are left to the
inventory handler (``/ssot inventory`` on a tracking issue).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from gidgethub import routing, sansio

from bot import markers
from bot.commands import is_allowed_to_recheck, parse_commands, reply_to
from bot.github.client import Repo
from bot.service.context import Bot
from bot.usecases.analysis import submit_analysis
from bot.usecases.permissions import permission

log = logging.getLogger(__name__)
router = routing.Router()

RECHECK_LIMIT = 5
RECHECK_WINDOW = 600.0  # seconds
_MAX_TRACKED = 10_000  # (repo, PR, user) keys remembered at most


class RecheckLimiter:
    """At most ``limit`` recheck comments per (repository, PR, user) in ``window`` seconds.
    A redelivered comment (same id) is not counted twice."""

    def __init__(self, *, limit: int = RECHECK_LIMIT, window: float = RECHECK_WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: dict[tuple[str, int, str], deque[tuple[float, int]]] = {}

    def allow(self, repo: str, pr: int, user: str, comment_id: int) -> bool:
        now = self.clock()
        key = (repo.lower(), pr, user.lower())
        times = self._seen.setdefault(key, deque())
        while times and now - times[0][0] >= self.window:
            times.popleft()
        if any(cid == comment_id for _, cid in times):
            return True
        if len(times) >= self.limit:
            return False
        times.append((now, comment_id))
        if len(self._seen) > _MAX_TRACKED:
            for stale in [k for k, q in self._seen.items()
                          if not q or now - q[-1][0] >= self.window]:
                del self._seen[stale]
        return True


_limiters: weakref.WeakKeyDictionary[Bot, RecheckLimiter] = weakref.WeakKeyDictionary()


def limiter(bot: Bot) -> RecheckLimiter:
    """The running bot's recheck limiter."""
    return _limiters.setdefault(bot, RecheckLimiter())


def _is_bot(comment: dict[str, Any], app_id: str | None) -> bool:
    user = comment.get("user") or {}
    via_app = (comment.get("performed_via_github_app") or {}).get("id")
    return (user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]")
            or (via_app is not None and str(via_app) == str(app_id)))


async def _reply_once(bot: Bot, repo: Repo, number: int, body: str, marker: str) -> None:
    """Reply unless a reply of the App's own with ``marker`` exists; overlapping replays of
    one comment are serialised so that only one of them writes."""
    async with bot.issue_locks.hold(("reply", repo.full_name.lower(), marker)):
        await repo.comment_once(number, f"{body}\n{marker}", marker=marker)


async def _recheck(bot: Bot, data: dict[str, Any], repo: Repo) -> None:
    issue, comment = data["issue"], data["comment"]
    number, comment_id = issue["number"], comment["id"]
    login = comment["user"]["login"]
    author = (issue.get("user") or {}).get("login", "")
    allowed_user = None if login.lower() == author.lower() else await permission(bot, repo, login)
    if not is_allowed_to_recheck(commenter=login, pr_author=author, permission=allowed_user):
        log.info("recheck refused", extra={"user": login, "permission": allowed_user})
        await repo.add_reaction(comment_id, "-1")
        return
    if not limiter(bot).allow(repo.full_name, number, login, comment_id):
        log.info("recheck refused: rate limit", extra={"user": login, "pr": number})
        await repo.add_reaction(comment_id, "-1")
        return
    await repo.add_reaction(comment_id, "eyes")
    submit_analysis(bot, data["installation"]["id"], data["repository"]["full_name"], number)


@router.register("issue_comment", action="created")
async def on_comment(event: sansio.Event, bot: Bot) -> None:
    data = event.data
    issue, comment = data["issue"], data["comment"]
    if "pull_request" not in issue or _is_bot(comment, bot.app_id):
        return
    commands = parse_commands(comment.get("body"))
    if not commands:
        return
    repo = bot.repo(data["installation"]["id"], data["repository"]["full_name"])
    if any(c.name == "recheck" for c in commands):
        await _recheck(bot, data, repo)
    reply, confused = reply_to([c for c in commands if c.name != "recheck"])
    if confused:
        await repo.add_reaction(comment["id"], "confused")
    if reply is not None:
        await _reply_once(bot, repo, issue["number"], reply,
                          markers.reply(int(comment["id"])))

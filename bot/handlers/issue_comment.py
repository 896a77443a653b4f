"""`/ssot ...` commands in pull request comments (docs/behaviour.md §6, §8).

One reply at most per comment, however many `/ssot` lines it holds; at most
``RECHECK_LIMIT`` `/ssot recheck` comments per user per PR in ``RECHECK_WINDOW`` seconds start
an analysis (beyond: reaction ``-1``, nothing else). Comments on plain issues are left to the
inventory handler (``/ssot inventory`` on a tracking issue).
"""

from __future__ import annotations

import logging
from typing import Any

from gidgethub import routing, sansio

from bot import markers
from bot.commands import is_allowed_to_recheck, reply_to
from bot.github.client import Repo
from bot.handlers.parts import HandlerParts, comment_commands
from bot.usecases.analysis import submit_analysis

log = logging.getLogger(__name__)
router = routing.Router()


async def _reply_once(parts: HandlerParts, repo: Repo, number: int, body: str, marker: str) -> None:
    """Reply unless a reply of the App's own with ``marker`` exists; overlapping replays of
    one comment are serialised so that only one of them writes."""
    async with parts.issue_locks.hold(("reply", repo.full_name.lower(), marker)):
        await repo.comment_once(number, f"{body}\n{marker}", marker=marker)


async def _recheck(parts: HandlerParts, data: dict[str, Any], repo: Repo) -> None:
    issue, comment = data["issue"], data["comment"]
    number, comment_id = issue["number"], comment["id"]
    login = comment["user"]["login"]
    author = (issue.get("user") or {}).get("login", "")
    allowed_user = (None if login.lower() == author.lower()
                    else await parts.permissions.permission(repo, login))
    if not is_allowed_to_recheck(commenter=login, pr_author=author, permission=allowed_user):
        log.info("recheck refused", extra={"user": login, "permission": allowed_user})
        await repo.add_reaction(comment_id, "-1")
        return
    if not await parts.recheck.admit(repo.full_name, number, login, comment_id):
        log.info("recheck refused: rate limit", extra={"user": login, "pr": number})
        await repo.add_reaction(comment_id, "-1")
        return
    await repo.add_reaction(comment_id, "eyes")
    submit_analysis(parts.analysis, data["installation"]["id"], data["repository"]["full_name"],
                    number)


@router.register("issue_comment", action="created")
async def on_comment(event: sansio.Event, parts: HandlerParts) -> None:
    data = event.data
    issue, comment = data["issue"], data["comment"]
    if "pull_request" not in issue:
        return
    commands = await comment_commands(comment, parts.app_id)
    if not commands:
        return
    repo = parts.repo(data["installation"]["id"], data["repository"]["full_name"])
    if any(c.name == "recheck" for c in commands):
        await _recheck(parts, data, repo)
    reply, confused = reply_to([c for c in commands if c.name != "recheck"])
    if confused:
        await repo.add_reaction(comment["id"], "confused")
    if reply is not None:
        await _reply_once(parts, repo, issue["number"], reply,
                          markers.reply(int(comment["id"])))

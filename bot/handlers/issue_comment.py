"""`/ssot ...` commands in pull request comments (docs/behaviour.md §6)."""

from __future__ import annotations

import logging
import time
from typing import Any

from gidgethub import routing, sansio

from bot.commands import help_text, is_allowed_to_recheck, parse_commands, unknown_command_text
from bot.github.client import Repo
from bot.service.context import Bot
from bot.usecases.analysis import submit_analysis

log = logging.getLogger(__name__)
router = routing.Router()

PERMISSION_TTL = 60.0  # seconds a collaborator permission answer is trusted
PERMISSION_CACHE_SIZE = 4096


def _is_bot(comment: dict[str, Any], app_id: str | None) -> bool:
    user = comment.get("user") or {}
    via_app = (comment.get("performed_via_github_app") or {}).get("id")
    return (user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]")
            or (via_app is not None and str(via_app) == str(app_id)))


async def _permission(bot: Bot, repo: Repo, login: str) -> str | None:
    key = (repo.full_name.lower(), login.lower())
    cached = bot.permission_cache.get(key)
    if cached and time.monotonic() - cached[0] < PERMISSION_TTL:
        return cached[1]
    value = await repo.permission(login)
    now = time.monotonic()
    if len(bot.permission_cache) >= PERMISSION_CACHE_SIZE:  # keep it bounded: drop stale ones
        for stale in [k for k, (at, _) in bot.permission_cache.items()
                      if now - at >= PERMISSION_TTL]:
            del bot.permission_cache[stale]
    bot.permission_cache[key] = (now, value)
    return value


async def _reply_once(bot: Bot, repo: Repo, number: int, body: str, marker: str) -> None:
    """Reply unless a reply with ``marker`` exists; overlapping replays of one comment are
    serialised so that only one of them writes."""
    async with bot.issue_locks.hold(("reply", repo.full_name.lower(), marker)):
        await repo.comment_once(number, f"{body}\n{marker}", marker=marker)


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
    number, comment_id = issue["number"], comment["id"]
    login = comment["user"]["login"]
    for command in commands:
        marker = f"<!-- ssot-bot:reply comment={comment_id} command={command.name or '-'} -->"
        if command.name == "recheck":
            author = (issue.get("user") or {}).get("login", "")
            permission = None if login.lower() == author.lower() else await _permission(
                bot, repo, login)
            if not is_allowed_to_recheck(commenter=login, pr_author=author, permission=permission):
                log.info("recheck refused", extra={"user": login, "permission": permission})
                await repo.add_reaction(comment_id, "-1")
                continue
            await repo.add_reaction(comment_id, "eyes")
            submit_analysis(bot, data["installation"]["id"], data["repository"]["full_name"],
                            number)
        elif command.name == "help":
            await _reply_once(bot, repo, number, help_text(), marker)
        else:
            await repo.add_reaction(comment_id, "confused")
            await _reply_once(bot, repo, number, unknown_command_text(command), marker)

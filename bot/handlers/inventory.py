"""``/ssot inventory`` in a comment on a tracking issue (a plain issue, not a PR): a user with
write permission refreshes the inventory now (docs/behaviour.md §11); anyone else gets 👎."""

from __future__ import annotations

import logging

from gidgethub import routing, sansio

from bot.commands import parse_commands
from bot.service.context import Bot
from bot.usecases.inventory import html_base_of, submit_inventory
from bot.usecases.permissions import can_write

log = logging.getLogger(__name__)
router = routing.Router()


@router.register("issue_comment", action="created")
async def on_inventory_command(event: sansio.Event, bot: Bot) -> None:
    data = event.data
    issue, comment = data["issue"], data["comment"]
    user = comment.get("user") or {}
    if "pull_request" in issue or user.get("type") == "Bot":
        return
    if not any(c.name == "inventory" for c in parse_commands(comment.get("body"))):
        return
    repository = data["repository"]
    repo = bot.repo(data["installation"]["id"], repository["full_name"])
    if not await can_write(bot, repo, str(user.get("login", ""))):
        log.info("inventory refresh refused", extra={"user": user.get("login")})
        await repo.add_reaction(comment["id"], "-1")
        return
    await repo.add_reaction(comment["id"], "eyes")
    submit_inventory(bot, data["installation"]["id"], repository["full_name"],
                     html_base=html_base_of(repository))

"""``/ssot inventory`` in a comment on a tracking issue (a plain issue, not a PR): a user with
write permission refreshes the inventory now (docs/behaviour.md §11); anyone else gets 👎. On an
issue that the default branch's configuration does not name under ``tracking.inventory``, the
command gets 😕 and refreshes nothing."""

from __future__ import annotations

import logging

from gidgethub import routing, sansio

from bot.config.model import ConfigError
from bot.handlers.parts import HandlerParts, comment_commands
from bot.usecases.inventory import html_base_of, submit_inventory
from bot.usecases.repo_config import load_repo_config

log = logging.getLogger(__name__)
router = routing.Router()


@router.register("issue_comment", action="created")
async def on_inventory_command(event: sansio.Event, parts: HandlerParts) -> None:
    data = event.data
    issue, comment = data["issue"], data["comment"]
    user = comment.get("user") or {}
    if "pull_request" in issue:
        return
    if not any(c.name == "inventory" for c in await comment_commands(comment, parts.app_id)):
        return
    repository = data["repository"]
    repo = parts.repo(data["installation"]["id"], repository["full_name"])
    if not await parts.permissions.can_write(repo, str(user.get("login", ""))):
        log.info("inventory refresh refused", extra={"user": user.get("login")})
        await repo.add_reaction(comment["id"], "-1")
        return
    try:
        config = await load_repo_config(repo, str(repository.get("default_branch") or "main"))
    except ConfigError:
        config = None
    if config is None or issue["number"] not in {t.issue for t in config.tracking.inventory}:
        log.info("inventory command on an issue without an inventory",
                 extra={"issue": issue["number"]})
        await repo.add_reaction(comment["id"], "confused")
        return
    await repo.add_reaction(comment["id"], "eyes")
    submit_inventory(parts.inventory, data["installation"]["id"], repository["full_name"],
                     html_base=html_base_of(repository))

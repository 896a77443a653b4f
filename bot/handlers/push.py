"""``push`` to a repository's default branch: the inventory of its tracking issues
(docs/behaviour.md §11). The work is :mod:`bot.usecases.inventory`."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.handlers.parts import HandlerParts
from bot.usecases.inventory import Push, html_base_of, submit_inventory

router = routing.Router()


@router.register("push")
async def on_push(event: sansio.Event, parts: HandlerParts) -> None:
    data = event.data
    repository = data.get("repository") or {}
    branch = repository.get("default_branch")
    if (not branch or data.get("ref") != f"refs/heads/{branch}" or data.get("deleted")
            or not data.get("after") or not str(data["after"]).strip("0")
            or "installation" not in data):
        return
    submit_inventory(parts.inventory, data["installation"]["id"], repository["full_name"],
                     html_base=html_base_of(repository), push=Push.from_payload(data))

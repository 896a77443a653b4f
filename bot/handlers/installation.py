"""``installation`` ``deleted`` and ``installation_repositories`` ``removed``: the App lost
access, so what the bot holds for those repositories is deleted (docs/behaviour.md §13).
GitHub sends both events to every App without a subscription."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.handlers.parts import HandlerParts
from bot.usecases.forget import forget_repositories, repository_names

router = routing.Router()


@router.register("installation", action="deleted")
@router.register("installation_repositories", action="removed")
async def on_access_lost(event: sansio.Event, parts: HandlerParts) -> None:
    data = event.data
    gone = event.event == "installation"  # the whole installation, else some repositories
    names = repository_names(data.get("repositories" if gone else "repositories_removed"))
    await forget_repositories(parts.forget, int(data["installation"]["id"]), names,
                              installation_gone=gone)

"""The App was uninstalled from repositories (docs/behaviour.md §13): what the bot holds for
them goes. ``installation`` ``deleted`` names every repository of the installation;
``installation_repositories`` ``removed`` the ones taken away."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.usecases.modules import BlobCache
from bot.usecases.ports import StoreFor

log = logging.getLogger(__name__)


def repository_names(items: Iterable[Mapping[str, Any]] | None) -> list[str]:
    """``full_name`` of each repository object of a payload, lower-cased (the store's key)."""
    return sorted({str(r["full_name"]).lower() for r in items or ()
                   if isinstance(r, Mapping) and r.get("full_name")})


@dataclass(frozen=True)
class ForgetParts:
    """What forgetting repositories uses."""

    store: StoreFor
    blobs: BlobCache  # module texts read through each installation
    forget_installation: Callable[[int], None]  # drops its access token and kept answers


async def forget_repositories(parts: ForgetParts, installation_id: int, names: list[str], *,
                              installation_gone: bool) -> None:
    """Delete the store's rows of ``names``; with ``installation_gone``, also what is kept
    for the installation itself: its reusable results, texts, access token and ETags."""
    if names:
        await asyncio.to_thread(parts.store().forget, names)
    if installation_gone:
        # docs/behaviour.md §14: the results, texts and answers kept for it go too
        await asyncio.to_thread(parts.store().forget_installation, installation_id)
        parts.blobs.drop(installation_id)
        parts.forget_installation(installation_id)
    log.info("forgot repositories", extra={
        "installation": installation_id, "repositories": len(names),
        "installation_gone": installation_gone})

"""What the webhook handlers receive (the service dispatches every event with one): who the
App is, the repositories' GitHub access, and each use case's parts. Built where the process
starts; a handler passes its use case the parts it needs, never the service."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.commands import INLINE_COMMENT, Command, from_a_bot, parse_commands
from bot.usecases.analysis import AnalysisParts
from bot.usecases.forget import ForgetParts
from bot.usecases.inventory import InventoryParts
from bot.usecases.permissions import Permissions
from bot.usecases.ports import IssueLocks, RepoFor
from bot.usecases.recheck import Rechecks
from bot.usecases.tracking import TrackingParts


@dataclass(frozen=True)
class HandlerParts:
    app_id: str | None
    repo: RepoFor
    analysis: AnalysisParts
    inventory: InventoryParts
    tracking: TrackingParts
    permissions: Permissions
    recheck: Rechecks  # counted per process, or across replicas in shared mode
    issue_locks: IssueLocks  # one reply per command comment
    forget: ForgetParts  # the App lost access to repositories


async def comment_commands(comment: Mapping[str, Any], app_id: str | None) -> list[Command]:
    """The ``/ssot`` commands of ``comment`` (none from a bot or from this App); a body over
    :data:`~bot.commands.INLINE_COMMENT` characters is parsed off the event loop."""
    if from_a_bot(comment, app_id):
        return []
    body = comment.get("body")
    if isinstance(body, str) and len(body) > INLINE_COMMENT:
        return await asyncio.to_thread(parse_commands, body)
    return parse_commands(body if isinstance(body, str) else None)

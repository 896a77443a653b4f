"""Tracking issues: ``pull_request`` closed (merged) ticks the linked steps; opened / reopened /
edited / ready_for_review moves them to IN PROGRESS. The work is :mod:`bot.usecases.tracking`."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.handlers.parts import HandlerParts
from bot.usecases.tracking import apply_merge, apply_start

router = routing.Router()


@router.register("pull_request", action="closed")
async def pr_merged(event: sansio.Event, parts: HandlerParts) -> None:
    data = event.data  # a PR closed without merging: apply_merge does nothing
    await apply_merge(parts.tracking, data["installation"]["id"], data["repository"]["full_name"],
                      data["pull_request"])


@router.register("pull_request", action="opened")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="edited")
@router.register("pull_request", action="ready_for_review")
async def pr_started(event: sansio.Event, parts: HandlerParts) -> None:
    data = event.data
    await apply_start(parts.tracking, data["installation"]["id"], data["repository"]["full_name"],
                      data["pull_request"])

"""`pull_request` opened / reopened / synchronize / ready_for_review -> analyse the PR; `edited`
with ``changes.base`` (the PR was retargeted) -> analyse it again against the new base's
configuration, so that a check from the old base never stands (one of another name is completed
as superseded)."""

from __future__ import annotations

from gidgethub import routing, sansio

from bot.handlers.parts import HandlerParts
from bot.usecases.analysis import submit_analysis

router = routing.Router()


@router.register("pull_request", action="opened")
@router.register("pull_request", action="reopened")
@router.register("pull_request", action="synchronize")
@router.register("pull_request", action="ready_for_review")
async def analyse_on_change(event: sansio.Event, parts: HandlerParts) -> None:
    data = event.data
    submit_analysis(parts.analysis, data["installation"]["id"], data["repository"]["full_name"],
                    data["pull_request"]["number"])


@router.register("pull_request", action="edited")
async def analyse_on_retarget(event: sansio.Event, parts: HandlerParts) -> None:
    data = event.data
    base = (data.get("changes") or {}).get("base")
    if not base:
        return  # a title or body edit: the analysis does not depend on it
    old = (base.get("ref") or {}).get("from")
    submit_analysis(parts.analysis, data["installation"]["id"], data["repository"]["full_name"],
                    data["pull_request"]["number"],
                    retargeted_from=str(old) if old else None)

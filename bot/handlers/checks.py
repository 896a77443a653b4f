"""Re-runs from GitHub's checks UI: `check_run` rerequested / requested_action (``recheck``)
and `check_suite` rerequested, for this app's own checks only."""

from __future__ import annotations

import logging
from typing import Any

from gidgethub import routing, sansio

from bot.handlers.parts import HandlerParts
from bot.usecases.analysis import submit_analysis

log = logging.getLogger(__name__)
router = routing.Router()


async def _rerun(parts: HandlerParts, data: dict[str, Any], run: dict[str, Any]) -> None:
    if str((run.get("app") or {}).get("id")) != str(parts.app_id):
        log.info("not this app's check; ignored")
        return
    installation_id = data["installation"]["id"]
    full_name = data["repository"]["full_name"]
    repo_id = data["repository"].get("id")
    numbers = [p["number"] for p in run.get("pull_requests") or []
               if repo_id is None or ((p.get("base") or {}).get("repo") or {}).get("id") == repo_id]
    if not numbers:
        # GitHub leaves pull_requests empty for forks and for runs on a commit that is no longer
        # a head: find the open PRs by head sha, else by the suite's head branch.
        branch = run.get("head_branch") or (run.get("check_suite") or {}).get("head_branch")
        pulls = await parts.repo(installation_id, full_name).open_pulls()
        numbers = [p["number"] for p in pulls if (p.get("head") or {}).get("sha") == run[
            "head_sha"]] or [p["number"] for p in pulls
                             if branch and (p.get("head") or {}).get("ref") == branch]
    for number in numbers:
        submit_analysis(parts.analysis, installation_id, full_name, number)


@router.register("check_run", action="rerequested")
async def check_run_rerequested(event: sansio.Event, parts: HandlerParts) -> None:
    await _rerun(parts, event.data, event.data["check_run"])


@router.register("check_run", action="requested_action")
async def check_run_action(event: sansio.Event, parts: HandlerParts) -> None:
    if (event.data.get("requested_action") or {}).get("identifier") != "recheck":
        return
    await _rerun(parts, event.data, event.data["check_run"])


@router.register("check_suite", action="rerequested")
async def check_suite_rerequested(event: sansio.Event, parts: HandlerParts) -> None:
    await _rerun(parts, event.data, event.data["check_suite"])

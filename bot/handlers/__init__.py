"""Webhook handlers, one module per event family, each with its own gidgethub Router.

``router`` merges them; the service dispatches every accepted delivery to it.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from gidgethub import routing

from bot.handlers import (
    checks,
    installation,
    inventory,
    issue_comment,
    pull_request,
    push,
    tracking,
)
from bot.usecases.analysis import run_analysis_job
from bot.usecases.inventory import run_inventory_job

router = routing.Router(pull_request.router, tracking.router, issue_comment.router, checks.router,
                        push.router, inventory.router, installation.router)

# Shared mode (docs/deploy.md): the jobs a worker runs from the database, by kind (deliveries
# themselves go through ``router``); each receives the handlers' parts and the job's arguments.
job_kinds: Mapping[str, Callable[[Any, Mapping[str, Any]], Awaitable[None]]] = {
    "analysis": run_analysis_job,
    "inventory": run_inventory_job,
}

__all__ = ["job_kinds", "router"]

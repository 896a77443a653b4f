"""Webhook handlers, one module per event family, each with its own gidgethub Router.

``router`` merges them; the service dispatches every accepted delivery to it.
"""

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

router = routing.Router(pull_request.router, tracking.router, issue_comment.router, checks.router,
                        push.router, inventory.router, installation.router)

__all__ = ["router"]

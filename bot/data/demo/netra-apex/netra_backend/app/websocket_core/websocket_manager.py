"""Legacy WebSocket manager: one connection registry for every user.

Superseded for agents by :mod:`netra_backend.app.services.agent_websocket_bridge`, which
isolates each user's events. Kept for the transport layer itself.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass
class _Connection:
    user_id: str
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)


class WebSocketManager:
    """Registry of live WebSocket connections, keyed by user id."""

    def __init__(self) -> None:
        self._connections: dict[str, _Connection] = {}
        self._lock = asyncio.Lock()

    async def connect(self, user_id: str) -> None:
        async with self._lock:
            self._connections.setdefault(user_id, _Connection(user_id))

    async def disconnect(self, user_id: str) -> None:
        async with self._lock:
            self._connections.pop(user_id, None)

    async def send_to_user(self, user_id: str, event: dict[str, Any]) -> bool:
        connection = self._connections.get(user_id)
        if connection is None:
            logger.debug("no connection for user %s; event dropped", user_id)
            return False
        await connection.queue.put(event)
        return True


_default_manager: WebSocketManager | None = None


def get_websocket_manager() -> WebSocketManager:
    """The process-wide manager (transport layer only)."""
    global _default_manager
    if _default_manager is None:
        _default_manager = WebSocketManager()
    return _default_manager

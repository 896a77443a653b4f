"""AgentWebSocketBridge: the single source of truth for agent -> user WebSocket events.

Every agent sends its events (agent_started, agent_thinking, tool_executing, tool_completed,
agent_completed) through a bridge bound to one user's execution context, so events never
cross users.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from netra_backend.app.websocket_core.websocket_manager import get_websocket_manager

logger = logging.getLogger(__name__)

AGENT_EVENTS = (
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
)


class EventTransport(Protocol):
    async def send_to_user(self, user_id: str, event: dict[str, Any]) -> bool: ...


@dataclass(frozen=True)
class UserExecutionContext:
    user_id: str
    thread_id: str
    run_id: str


class AgentWebSocketBridge:
    """Delivers one user's agent events, in order, to that user only."""

    def __init__(self, context: UserExecutionContext, transport: EventTransport) -> None:
        self._context = context
        self._transport = transport

    @property
    def user_id(self) -> str:
        return self._context.user_id

    async def notify(self, event: str, payload: dict[str, Any] | None = None) -> bool:
        if event not in AGENT_EVENTS:
            raise ValueError(f"unknown agent event {event!r}")
        message = {
            "type": event,
            "run_id": self._context.run_id,
            "thread_id": self._context.thread_id,
            "payload": payload or {},
        }
        return await self._transport.send_to_user(self._context.user_id, message)


def create_agent_websocket_bridge(context: UserExecutionContext) -> AgentWebSocketBridge:
    """The factory agents use: one bridge per user execution context."""
    return AgentWebSocketBridge(context, get_websocket_manager())

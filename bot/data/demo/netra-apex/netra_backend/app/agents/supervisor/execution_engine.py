"""Execution engine: runs one agent for one user, reporting through the SSOT bridge.

This module is the compliant pattern of #1103: it reaches WebSockets only through
AgentWebSocketBridge, created by its factory for the user's execution context.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from netra_backend.app.services.agent_websocket_bridge import (
    AgentWebSocketBridge,
    UserExecutionContext,
    create_agent_websocket_bridge,
)

logger = logging.getLogger(__name__)

AgentStep = Callable[[AgentWebSocketBridge], Awaitable[Any]]


class ExecutionEngine:
    """Runs agent steps for one user; every event goes through that user's bridge."""

    def __init__(self, context: UserExecutionContext) -> None:
        self._context = context
        self._bridge: AgentWebSocketBridge | None = None

    @property
    def bridge(self) -> AgentWebSocketBridge:
        if self._bridge is None:
            self._bridge = create_agent_websocket_bridge(self._context)
        return self._bridge

    async def run(self, agent_name: str, step: AgentStep) -> Any:
        await self.bridge.notify("agent_started", {"agent": agent_name})
        try:
            result = await step(self.bridge)
        except Exception:
            logger.exception("agent %s failed for user %s", agent_name, self._context.user_id)
            raise
        await self.bridge.notify("agent_completed", {"agent": agent_name})
        return result

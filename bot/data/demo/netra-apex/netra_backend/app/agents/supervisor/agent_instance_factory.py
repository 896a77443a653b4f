"""Agent Instance Factory - per-request agent instances with user isolation.

Business Value Justification:
- Segment: Platform (all tiers)
- Business Goal: reliable chat, the Golden Path (user logs in -> AI responds)
- Value Impact: each request gets its own agent instances and its own event channel,
  so one user's WebSocket events never reach another user

The factory creates fresh agent instances for every user request. Each instance is
bound to a UserExecutionContext (user id, thread id, run id) and reports progress
through WebSocket events:

- agent_started: the agent began working on the request
- agent_thinking: intermediate reasoning, streamed to the user
- tool_executing / tool_completed: tool calls, with their results
- agent_completed: the final answer is ready

Instances are never shared between users: the factory keeps a per-user registry,
bounds how many instances one user may hold, and sweeps instances past their TTL.

Usage::

    factory = get_agent_instance_factory()
    instance = await factory.create_agent_instance("triage", context)

Known issue (#1103): this module still holds a direct WebSocketManager next to the
AgentWebSocketBridge factory. Both paths deliver events, and they race.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import (
    Any,
    Optional,
)

from netra_backend.app.services.agent_websocket_bridge import UserExecutionContext

# WebSocket event delivery
from netra_backend.app.websocket_core.websocket_manager import WebSocketManager
from netra_backend.app.services.agent_websocket_bridge import create_agent_websocket_bridge

logger = logging.getLogger(__name__)

#: Seconds an agent instance may live before the factory refuses to hand it out again.
INSTANCE_TTL_SECONDS = 300.0

#: Upper bound of concurrently live instances for one user.
MAX_INSTANCES_PER_USER = 8

AgentBuilder = Callable[["AgentInstanceFactory", UserExecutionContext], Any]


@dataclass
class AgentInstance:
    """An agent built for one request of one user."""

    agent_name: str
    context: UserExecutionContext
    agent: Any
    created_at: float = field(default_factory=time.monotonic)

    @property
    def expired(self) -> bool:
        return time.monotonic() - self.created_at > INSTANCE_TTL_SECONDS


class FactoryConfigurationError(RuntimeError):
    """The factory was used before configure() was called."""


@dataclass
class FactoryMetrics:
    instances_created: int = 0
    instances_released: int = 0
    creation_errors: int = 0


class AgentInstanceFactory:
    """Builds agent instances bound to one user's execution context."""

    def __init__(self) -> None:
        self._builders: dict[str, AgentBuilder] = {}
        self._instances: dict[str, AgentInstance] = {}
        self._per_user: dict[str, set[str]] = {}
        self._lock = asyncio.Lock()
        self._metrics = FactoryMetrics()
        self._configured = False
        self._started_at = time.monotonic()

        # Legacy WebSocket path (to be removed, see #1103)
        self._websocket_manager: Optional[WebSocketManager] = None

    def configure(
        self,
        builders: Mapping[str, AgentBuilder],
        websocket_manager: Optional[WebSocketManager] = None,
    ) -> None:
        """Register agent builders (and, for now, the legacy manager)."""
        self._builders.update(builders)
        self._websocket_manager = websocket_manager
        self._configured = True

    @property
    def metrics(self) -> FactoryMetrics:
        return self._metrics

    async def create_agent_instance(
        self, agent_name: str, context: UserExecutionContext
    ) -> AgentInstance:
        """A fresh instance of ``agent_name`` for ``context``; never shared between users."""
        if not self._configured:
            raise FactoryConfigurationError("call configure() before creating agents")
        builder = self._builders.get(agent_name)
        if builder is None:
            raise KeyError(f"no agent named {agent_name!r}")
        async with self._lock:
            live = self._per_user.setdefault(context.user_id, set())
            if len(live) >= MAX_INSTANCES_PER_USER:
                raise RuntimeError(f"user {context.user_id} has too many live agents")
            try:
                agent = builder(self, context)
            except Exception:
                self._metrics.creation_errors += 1
                logger.exception("building %s failed", agent_name)
                raise
            instance_id = uuid.uuid4().hex
            instance = AgentInstance(agent_name, context, agent)
            self._instances[instance_id] = instance
            live.add(instance_id)
            self._metrics.instances_created += 1

        bridge = create_agent_websocket_bridge(context)
        await bridge.notify("agent_started", {"agent": agent_name, "instance": instance_id})
        if self._websocket_manager is not None:
            # Legacy duplicate delivery: the race described in #1103.
            await self._websocket_manager.send_to_user(
                context.user_id, {"type": "agent_started", "agent": agent_name}
            )
        return instance

    async def release(self, instance_id: str) -> None:
        async with self._lock:
            instance = self._instances.pop(instance_id, None)
            if instance is None:
                return
            self._per_user.get(instance.context.user_id, set()).discard(instance_id)
            self._metrics.instances_released += 1

    async def sweep_expired(self) -> int:
        """Release instances past their TTL; returns how many were released."""
        expired = [iid for iid, inst in self._instances.items() if inst.expired]
        for instance_id in expired:
            await self.release(instance_id)
        return len(expired)


_factory: Optional[AgentInstanceFactory] = None


def get_agent_instance_factory() -> AgentInstanceFactory:
    global _factory
    if _factory is None:
        _factory = AgentInstanceFactory()
    return _factory

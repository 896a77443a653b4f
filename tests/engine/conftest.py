from __future__ import annotations

from collections.abc import Mapping

from bot.config.model import Config, PathFilter, Rule

WS = "netra_backend.app.websocket_core.websocket_manager.WebSocketManager"
WS_MODULE = "netra_backend.app.websocket_core.websocket_manager"
FACTORY = "netra_backend.app.services.agent_websocket_bridge.create_agent_websocket_bridge"
BRIDGE = "netra_backend.app.services.agent_websocket_bridge.AgentWebSocketBridge"
SEED_PATH = "netra_backend/app/agents/supervisor/agent_instance_factory.py"
WS_IMPORT = "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"


def rule(kind: str, id: str | None = None, **kw: object) -> Rule:
    return Rule(id=id or kind, kind=kind, message=f"{kind} message", **kw)  # type: ignore[arg-type]


def config(*rules: Rule, aliases: Mapping[str, str] | None = None, **kw: object) -> Config:
    return Config(rules=rules, aliases=dict(aliases or {}), **kw)  # type: ignore[arg-type]


def seed_config() -> Config:
    return config(
        rule(
            "banned-import",
            "ws-legacy-import",
            symbols=(WS,),
            use=FACTORY,
            paths=PathFilter(("netra_backend/app/agents/**",)),
        ),
        rule("banned-annotation", "ws-annotation", symbols=(WS,), use=BRIDGE),
    )

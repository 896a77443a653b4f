"""Triage agent: classifies a request and reports progress through the bridge (compliant)."""

from __future__ import annotations

from netra_backend.app.services.agent_websocket_bridge import AgentWebSocketBridge

CATEGORIES = ("optimization", "data", "general")


async def triage(request: str, bridge: AgentWebSocketBridge) -> str:
    await bridge.notify("agent_thinking", {"thought": "classifying the request"})
    lowered = request.lower()
    category = next((c for c in CATEGORIES if c in lowered), "general")
    await bridge.notify("tool_completed", {"tool": "classifier", "result": category})
    return category

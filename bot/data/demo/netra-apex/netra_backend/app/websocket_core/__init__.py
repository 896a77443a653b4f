"""WebSocket transport internals. Agents reach WebSockets through AgentWebSocketBridge."""

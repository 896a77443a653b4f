"""``dual-pattern``: a file that references at least one ``legacy`` and one ``ssot`` symbol gets
one violation, at its first legacy reference. Imports count; strings and comments never do."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from bot.config.keys import Key
from bot.config.model import Rule
from bot.engine.names import AliasTable
from bot.engine.rules.base import (
    SHIMS,
    Example,
    Finding,
    Need,
    RuleKind,
    needs_for,
    ref_hit,
    symbol_hit,
)
from bot.engine.rules.facts import Facts

_RULE = Rule(
    id="ws-dual",
    kind="dual-pattern",
    message="Do not mix WebSocketManager and the bridge.",
    legacy=("netra_backend.app.websocket_core.websocket_manager.WebSocketManager",),
    ssot=("netra_backend.app.services.agent_websocket_bridge.AgentWebSocketBridge",),
)
_LEGACY = "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"
_SSOT = "from netra_backend.app.services.agent_websocket_bridge import AgentWebSocketBridge\n"


class DualPattern(RuleKind):
    kind = "dual-pattern"
    summary = (
        "a file that references at least one `legacy` and one `ssot` symbol: one violation, at "
        "the first legacy reference"
    )
    keys = (
        Key("legacy", "names", "the legacy symbols: package.module.Name", required=True),
        Key("ssot", "names", "the single-source-of-truth symbols", required=True),
    )
    VALID: ClassVar[tuple[Example, ...]] = (
        Example(_LEGACY + "x = WebSocketManager()\n", _RULE),
        Example(_SSOT + "# WebSocketManager is gone\ns = 'WebSocketManager'\n", _RULE),
        Example("import netra_backend.app.websocket_core.websocket_manager\n" + _SSOT, _RULE),
        Example(_SSOT + "from netra_backend.app.core.manager import Manager\n", _RULE,
                modules=SHIMS["upstream"]),
    )
    INVALID: ClassVar[tuple[Example, ...]] = (
        Example(_SSOT + _LEGACY, _RULE, lines=(2,)),
        Example(
            "import netra_backend.app.websocket_core.websocket_manager as wm\n"
            "import netra_backend.app.services.agent_websocket_bridge as b\n"
            "def f():\n    return b.AgentWebSocketBridge(wm.WebSocketManager())\n",
            _RULE,
            lines=(4,),
        ),
        Example(_SSOT + "from legacy.compat import WSM\n", _RULE, modules=SHIMS["renamed"],
                lines=(2,)),
    )

    def required_names(self, rule: Rule, aliases: AliasTable) -> tuple[Need, ...]:
        return needs_for(rule.legacy, aliases) + needs_for(rule.ssot, aliases)

    def check(self, rule: Rule, facts: Facts) -> list[Finding]:
        legacy: list[cst.CSTNode] = []
        ssot = False
        for imp in facts.imports:
            for q in facts.expand_import(imp):
                if symbol_hit(q, rule.legacy):
                    legacy.append(imp.node)
                    break
                if symbol_hit(q, rule.ssot):
                    ssot = True
        for ref in facts.refs:
            if ref.string is not None:
                continue
            hit = ref_hit(facts, ref, rule.legacy)
            if hit is not None:
                legacy.append(hit[0])
            elif not ssot and ref_hit(facts, ref, rule.ssot) is not None:
                ssot = True
        if legacy and ssot:
            return [Finding(rule, legacy)]
        return []

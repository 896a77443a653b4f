"""``banned-annotation``: a listed symbol referenced inside a type annotation (parameters,
returns, annotated assignments; inside ``Optional[...]``, ``X | None`` and string annotations)."""

from __future__ import annotations

from typing import ClassVar

from bot.config.model import Rule
from bot.engine.rules.base import (
    SHIMS,
    SYMBOLS_KEY,
    USE_KEY,
    Example,
    Finding,
    RuleKind,
    ref_hit,
)
from bot.engine.rules.facts import Facts

_IMPORT = "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"
_RULE = Rule(
    id="ws-annotation",
    kind="banned-annotation",
    message="Annotate with AgentWebSocketBridge.",
    symbols=("netra_backend.app.websocket_core.websocket_manager.WebSocketManager",),
    use="netra_backend.app.services.agent_websocket_bridge.AgentWebSocketBridge",
)


class BannedAnnotation(RuleKind):
    kind = "banned-annotation"
    summary = (
        "every reference to a listed symbol inside a type annotation (parameters, returns, "
        "annotated assignments; inside `Optional[...]`, `X | None` and string annotations)"
    )
    keys = (SYMBOLS_KEY, USE_KEY)
    fix_doc = (
        "with `use`, the annotation's name becomes `use`'s last component, imported where "
        "missing (docs/behaviour.md §16)."
    )
    fix_site = "name"
    reads_string_annotations = True
    VALID: ClassVar[tuple[Example, ...]] = (
        Example(_IMPORT + "x = WebSocketManager\n", _RULE),
        Example("class WebSocketManager: ...\ndef f(m: WebSocketManager) -> None: ...\n", _RULE),
        Example(_IMPORT + "def f(m: 'Literal[\"WebSocketManager\"]'): ...\n", _RULE),
        Example(_IMPORT + "# m: WebSocketManager\ns = 'x: WebSocketManager'\n", _RULE),
        Example("from legacy.a import WebSocketManager\ndef f(m: WebSocketManager): ...\n",
                _RULE, modules=SHIMS["cycle"]),
        Example("from legacy.own import WebSocketManager\nx: WebSocketManager\n", _RULE,
                modules=SHIMS["defined"]),
    )
    INVALID: ClassVar[tuple[Example, ...]] = (
        Example(_IMPORT + "def f(m: WebSocketManager) -> None: ...\n", _RULE, lines=(2,)),
        Example(_IMPORT + "def f() -> 'WebSocketManager': ...\n", _RULE, lines=(2,)),
        Example(_IMPORT + "x: Optional[WebSocketManager] = None\n", _RULE, lines=(2,)),
        Example(_IMPORT + "x: WebSocketManager | None = None\n", _RULE, lines=(2,)),
        Example(_IMPORT + "x: 'Optional[WebSocketManager]' = None\n", _RULE, lines=(2,)),
        Example(
            "import netra_backend.app.websocket_core.websocket_manager as wm\n"
            "def f(\n    a: int,\n    b: wm.WebSocketManager,\n): ...\n",
            _RULE,
            lines=(4,),
        ),
        Example(
            "from netra_backend.app.websocket_core.websocket_manager import *\n"
            "def f(a: WebSocketManager): ...\n",
            _RULE,
            lines=(2,),
        ),
        # through shims found in the tree (docs/behaviour.md §10)
        Example("from netra_backend.app.websocket_core import WebSocketManager\n"
                "def f(m: WebSocketManager): ...\n", _RULE, modules=SHIMS["init"], lines=(2,)),
        Example("from legacy.types import Legacy\nx: 'Optional[Legacy]' = None\n", _RULE,
                modules=SHIMS["assigned"], lines=(2,)),
        Example("from legacy import *\ndef f() -> WebSocketManager: ...\n", _RULE,
                modules=SHIMS["star"], lines=(2,)),
    )

    def check(self, rule: Rule, facts: Facts) -> list[Finding]:
        out: list[Finding] = []
        for ref in facts.refs:
            if not ref.annotation:
                continue
            hit = ref_hit(facts, ref, rule.symbols)
            if hit is None:
                continue
            out.append(Finding(rule, (hit[0],), string=ref.string))
        return out

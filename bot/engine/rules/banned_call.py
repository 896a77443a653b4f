"""``banned-call``: every call of a listed symbol (direct instantiation, a factory bypass),
outside the files the rule's ``allow`` globs name."""

from __future__ import annotations

from typing import ClassVar

from bot.config.globs import matches_any
from bot.config.keys import Key
from bot.config.model import Rule
from bot.engine.rules.base import (
    SHIMS,
    SYMBOLS_KEY,
    USE_KEY,
    Example,
    Finding,
    RuleKind,
    symbol_hit,
)
from bot.engine.rules.facts import Facts

_RULE = Rule(
    id="ws-call",
    kind="banned-call",
    message="Create it through the factory.",
    symbols=("netra_backend.app.websocket_core.websocket_manager.WebSocketManager",),
    allow=("netra_backend/app/websocket_core/**",),
)
_IMPORT = "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"


class BannedCall(RuleKind):
    kind = "banned-call"
    summary = (
        "every call of a listed symbol (a direct instantiation, a factory bypass) outside the "
        "`allow` files"
    )
    keys = (
        SYMBOLS_KEY,
        USE_KEY,
        Key("allow", "globs", "globs of files where the calls are fine (the symbol's own package)"),
    )
    fix_doc = (
        "with `use`, the callee becomes `use`'s last component, imported where missing "
        "(docs/behaviour.md §16)."
    )
    fix_site = "call"
    VALID: ClassVar[tuple[Example, ...]] = (
        Example("def WebSocketManager(): ...\nWebSocketManager()\n", _RULE),
        Example(_IMPORT + "WebSocketManager.create()\n", _RULE),
        Example(_IMPORT + "x = WebSocketManager\n", _RULE),
        Example(
            _IMPORT + "m = WebSocketManager()\n",
            _RULE,
            path="netra_backend/app/websocket_core/f.py",
        ),
        Example("obj.WebSocketManager()\n", _RULE),
        Example("from legacy.own import WebSocketManager\nWebSocketManager()\n", _RULE,
                modules=SHIMS["defined"]),
        Example("from legacy.hidden import *\nWebSocketManager()\n", _RULE,
                modules=SHIMS["hidden"]),
        Example("from legacy.a import WebSocketManager\nWebSocketManager()\n", _RULE,
                modules=SHIMS["cycle"]),
        Example("from netra_backend.app.core.manager import Manager\nManager()\n", _RULE,
                modules=SHIMS["upstream"]),
    )
    INVALID: ClassVar[tuple[Example, ...]] = (
        Example(_IMPORT + "m = WebSocketManager(user)\n", _RULE, lines=(2,)),
        Example(
            "import netra_backend.app.websocket_core.websocket_manager as wm\n"
            "def f():\n    return wm.WebSocketManager()\n",
            _RULE,
            lines=(3,),
        ),
        Example(
            "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager as W\n"
            "x = [W(), W()]\n",
            _RULE,
            lines=(2, 2),
        ),
        Example(
            "import netra_backend\n"
            "netra_backend.app.websocket_core.websocket_manager.WebSocketManager()\n",
            _RULE,
            lines=(2,),
        ),
        # through shims found in the tree (docs/behaviour.md §10)
        Example("from legacy.compat import WSM\nm = WSM()\n", _RULE, modules=SHIMS["renamed"],
                lines=(2,)),
        Example("from legacy import *\nWebSocketManager()\n", _RULE, modules=SHIMS["star"],
                lines=(2,)),
        Example("import legacy.types as t\nt.OldManager()\n", _RULE, modules=SHIMS["assigned"],
                lines=(2,)),
        Example("from netra_backend.app import websocket_core\nwebsocket_core.WebSocketManager()\n",
                _RULE, modules=SHIMS["init"], lines=(2,)),
    )

    def check(self, rule: Rule, facts: Facts) -> list[Finding]:
        if rule.allow and matches_any(rule.allow, facts.path):
            return []
        symbols = set(rule.symbols)
        out: list[Finding] = []
        for ref in facts.refs:
            if ref.call is None or ref.string is not None:
                continue
            if any(q in symbols for q in facts.resolve(ref)):
                out.append(Finding(rule, (ref.call,)))
        return out


__all__ = ["BannedCall", "symbol_hit"]

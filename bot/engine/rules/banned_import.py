"""``banned-import``: every import of a listed symbol; a listed module also bans its submodules
and the names imported from it. Importing the module that merely holds a banned class is fine."""

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
    symbol_hit,
)
from bot.engine.rules.facts import Facts, ImportName

_WS = "netra_backend.app.websocket_core.websocket_manager.WebSocketManager"
_RULE = Rule(
    id="ws-import",
    kind="banned-import",
    message="Use the bridge factory.",
    symbols=(_WS,),
    use="netra_backend.app.services.agent_websocket_bridge.create_agent_websocket_bridge",
)
_WSM = "netra_backend.app.websocket_core.websocket_manager"
_MOD_RULE = Rule(
    id="ws-module",
    kind="banned-import",
    message="Do not import the legacy module.",
    symbols=("netra_backend.app.websocket_core.websocket_manager",),
)
_CONV_RULE = Rule(id="no-conv", kind="banned-import", message="Use convert.",
                  symbols=("pkg.conv.conv",))


class BannedImport(RuleKind):
    kind = "banned-import"
    summary = (
        "every import of a listed symbol; a listed module also bans its submodules and the names "
        "imported from it"
    )
    keys = (SYMBOLS_KEY, USE_KEY)
    fix_doc = (
        "with `use`, the import becomes an import of `use`'s name when every other reference "
        "to the imported name is rewritten by a `banned-annotation`/`banned-call` rule "
        "(docs/behaviour.md §16)."
    )
    fix_site = "import"
    reads_only_imports = True
    VALID: ClassVar[tuple[Example, ...]] = (
        Example("import netra_backend.app.websocket_core.websocket_manager as wm\n", _RULE),
        Example("from netra_backend.app.websocket_core import websocket_manager\n", _RULE),
        Example("from other.place import WebSocketManager\n", _RULE),
        Example("class WebSocketManager:\n    pass\n", _RULE),
        Example(f"s = 'from {_WSM} import x'\n", _MOD_RULE),
        Example("import netra_backend.app.websocket_core\n", _MOD_RULE),
        Example("from .......far import WebSocketManager\n", _RULE, path="a/b.py"),
        # re-exports found in the tree (docs/behaviour.md §10): the negatives
        Example("from legacy.own import WebSocketManager\n", _RULE, modules=SHIMS["defined"]),
        Example("from legacy.hidden import WebSocketManager\n", _RULE, modules=SHIMS["hidden"]),
        Example("from legacy.a import WebSocketManager\n", _RULE, modules=SHIMS["cycle"]),
        Example("from netra_backend.app.core.manager import Manager\n", _RULE,
                modules=SHIMS["upstream"]),
        Example("from legacy import *\n", _RULE, modules=SHIMS["star"]),
        Example("from legacy.compat import WSM\n", _RULE, path="legacy/x.py",
                modules={"legacy/compat.py": "WSM = 1\n"}),
        # ``pkg`` binds ``conv`` (the banned function) and its submodule is ``pkg.conv``: a
        # module path in an import names the module, never the binding
        Example("from pkg.conv import helper\n", _CONV_RULE, modules=SHIMS["conv"]),
        Example("from pkg import Other\n", _CONV_RULE, modules=SHIMS["conv"]),
        Example("import pkg.conv\nfrom pkg.conv import Other as O\n", _CONV_RULE,
                modules=SHIMS["conv"]),
    )
    INVALID: ClassVar[tuple[Example, ...]] = (
        Example(
            "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n",
            _RULE,
            lines=(1,),
        ),
        Example(
            "import os\nfrom netra_backend.app.websocket_core.websocket_manager import (\n"
            "    WebSocketManager as W,\n)\n",
            _RULE,
            lines=(3,),
        ),
        Example(
            "from .websocket_manager import WebSocketManager\n",
            _RULE,
            path="netra_backend/app/websocket_core/other.py",
            lines=(1,),
        ),
        Example(
            "from . import WebSocketManager\n",
            _RULE,
            path="netra_backend/app/websocket_core/websocket_manager/__init__.py",
            lines=(1,),
        ),
        Example(
            "from netra_backend.app.websocket_core import WebSocketManager\n",
            _RULE,
            aliases={"netra_backend.app.websocket_core.WebSocketManager": _WS},
            lines=(1,),
        ),
        Example(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n",
            _RULE,
            lines=(3,),
        ),
        Example(f"import {_WSM} as wm\n", _MOD_RULE, lines=(1,)),
        Example(f"import {_WSM}.sub\n", _MOD_RULE, lines=(1,)),
        Example("from netra_backend.app.websocket_core import websocket_manager\n", _MOD_RULE,
                lines=(1,)),
        Example(f"from {_WSM} import X\n", _MOD_RULE, lines=(1,)),
        # the function the package binds as ``conv``, and the function from its module
        Example("from pkg import conv\n", _CONV_RULE, modules=SHIMS["conv"], lines=(1,)),
        Example("from pkg.conv import helper, conv as c\n", _CONV_RULE, modules=SHIMS["conv"],
                lines=(1,)),
        Example(f"from {_WSM}.a import *\n", _MOD_RULE, lines=(1,)),
        # re-exports found in the tree, without aliases (docs/behaviour.md §10)
        Example("from netra_backend.app.websocket_core import WebSocketManager\n", _RULE,
                modules=SHIMS["init"], lines=(1,)),
        Example("import os\nfrom legacy.compat import WSM\n", _RULE, modules=SHIMS["renamed"],
                lines=(2,)),
        Example("from legacy.types import OldManager, Legacy\n", _RULE, modules=SHIMS["assigned"],
                lines=(1, 1)),
        Example("from legacy import WebSocketManager\n", _RULE, modules=SHIMS["star"],
                lines=(1,)),
        Example("from legacy.compat import websocket_manager\n", _MOD_RULE,
                modules={"legacy/compat.py": f"from {_WSM.rpartition('.')[0]} import "
                         "websocket_manager\n"}, lines=(1,)),
    )

    def check(self, rule: Rule, facts: Facts) -> list[Finding]:
        out: list[Finding] = []
        by_stmt: dict[int, list[ImportName]] = {}
        for imp in facts.imports:
            by_stmt.setdefault(id(imp.stmt), []).append(imp)
        for group in by_stmt.values():
            module_sites = [i for i in group if i.from_module]
            names = [i for i in group if not i.from_module]
            if module_sites and self._hit(facts, module_sites[0], rule):
                hits = module_sites[:1]
            else:
                hits = [i for i in names if self._hit(facts, i, rule)]
            out.extend(Finding(rule, (imp.node,)) for imp in hits)
        return out

    @staticmethod
    def _hit(facts: Facts, imp: ImportName, rule: Rule) -> bool:
        return any(symbol_hit(q, rule.symbols) for q in facts.expand_import(imp))


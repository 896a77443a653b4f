"""``canonical-definition``: a module-level ``class``/``def``/assignment of a listed name in any
file other than the name's canonical one."""

from __future__ import annotations

from typing import ClassVar

from bot.config.keys import Key
from bot.config.model import Rule
from bot.engine.names import AliasTable, last_component
from bot.engine.rules.base import Example, Finding, Need, RuleKind, words
from bot.engine.rules.facts import Facts

_CANON = "netra_backend/app/services/agent_websocket_bridge.py"
_RULE = Rule(
    id="one-bridge",
    kind="canonical-definition",
    message="AgentWebSocketBridge is defined once.",
    canonical={"AgentWebSocketBridge": _CANON},
)


class CanonicalDefinition(RuleKind):
    kind = "canonical-definition"
    summary = (
        "a module-level `class`, `def` or assignment of `Name` in any file but its canonical one;"
        " a compatibility fallback (`Name = None` or `Name = other.Name` in a `try`/`except "
        "ImportError` or `if TYPE_CHECKING` block) is not a definition"
    )
    keys = (
        Key("symbols", "name-paths", "Name: path/of/canonical.py (relative to the repository "
            "root): where each name may be defined", required=True, field="canonical"),
    )
    VALID: ClassVar[tuple[Example, ...]] = (
        Example("class AgentWebSocketBridge:\n    pass\n", _RULE, path=_CANON),
        Example("class AgentWebSocketBridge: ...\n", _RULE, path="examples/netra-apex/" + _CANON),
        Example("def f():\n    AgentWebSocketBridge = 1\n", _RULE),
        Example("class A:\n    AgentWebSocketBridge = None\n", _RULE),
        Example("from x import AgentWebSocketBridge\nAgentWebSocketBridge()\n", _RULE),
        # compatibility fallbacks bind the name to None or to an import: not a definition
        Example("try:\n    from x import AgentWebSocketBridge\nexcept ImportError:\n"
                "    AgentWebSocketBridge = None\n", _RULE),
        Example("try:\n    import y\nexcept (ImportError, OSError):\n"
                "    AgentWebSocketBridge: Any = None\n", _RULE),
        Example("try:\n    import y\nexcept ImportError:\n    import z\n"
                "    AgentWebSocketBridge = z.bridge.AgentWebSocketBridge\n", _RULE),
        Example("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from x import AgentWebSocketBridge\nelse:\n    AgentWebSocketBridge = None\n",
                _RULE),
        Example("import typing\nif typing.TYPE_CHECKING:\n    AgentWebSocketBridge = Bridge\n",
                _RULE),
        Example("try:\n    AgentWebSocketBridge = x.AgentWebSocketBridge\nfinally:\n    pass\n",
                _RULE),
    )
    INVALID: ClassVar[tuple[Example, ...]] = (
        Example("class AgentWebSocketBridge:\n    pass\n", _RULE, lines=(1,)),
        Example("class AgentWebSocketBridge: ...\n", _RULE, path="x" + _CANON, lines=(1,)),
        Example("@decorate\nclass AgentWebSocketBridge:\n    pass\n", _RULE, lines=(2,)),
        Example("async def AgentWebSocketBridge(): ...\n", _RULE, lines=(1,)),
        # a real second class/def still counts, also in a fallback block; so does a value
        Example("try:\n    from x import AgentWebSocketBridge\nexcept ImportError:\n"
                "    class AgentWebSocketBridge: ...\n", _RULE, lines=(4,)),
        Example("if TYPE_CHECKING:\n    pass\nelse:\n    def AgentWebSocketBridge(): ...\n",
                _RULE, lines=(4,)),
        Example("try:\n    import y\nexcept ImportError:\n    AgentWebSocketBridge = make()\n",
                _RULE, lines=(4,)),
        Example("AgentWebSocketBridge = None\n", _RULE, lines=(1,)),
        Example("if DEBUG:\n    AgentWebSocketBridge = Other\n", _RULE, lines=(2,)),
        Example("a, AgentWebSocketBridge = 1, 2\nAgentWebSocketBridge: int = 3\n", _RULE,
                lines=(1, 2)),
    )

    def required_names(self, rule: Rule, aliases: AliasTable) -> tuple[Need, ...]:
        # a definition is ``class N``/``def N`` or N as an assignment target (``N =``, ``N:``,
        # ``N, x =``, ``(x, N) =``); the pattern may say yes to more, never no to one of these
        names = frozenset(last_component(n) for n in rule.canonical)
        alternation = words(names)
        pattern = (
            rf"(?<!\w)(?:class|def)[\s\\]+{alternation}"
            rf"|(?<!\.){alternation}[\s\\]*(?:=(?!=)|:|,|\)|\])"
        )
        return (Need(names, pattern),)

    def check(self, rule: Rule, facts: Facts) -> list[Finding]:
        here = _norm(facts.path)
        wanted = {
            last_component(name): _norm(path) for name, path in rule.canonical.items()
        }
        out: list[Finding] = []
        for d in facts.definitions:
            canonical = wanted.get(d.name)
            if canonical is not None and not d.fallback and not _is_canonical(here, canonical):
                out.append(Finding(rule, (d.node,)))
        return out


def _is_canonical(here: str, canonical: str) -> bool:
    """``here`` is the canonical file: the same path, or the same path below a folder above
    the package root (``examples/netra-apex/`` + the canonical path when checking from the
    repository that holds the example)."""
    return here == canonical or here.endswith("/" + canonical)


def _norm(path: str) -> str:
    parts = [p for p in path.replace("\\", "/").split("/") if p and p != "."]
    return "/".join(parts)

"""Rule kinds, one file per kind (Fixit-style: each declares its keys, docs and VALID/INVALID
examples). A module of this package that defines a :class:`RuleKind` subclass with a ``kind``
is a kind: nothing else registers it (docs/adding-a-rule-kind.md)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from bot.config.model import Rule
from bot.engine.rules.base import Example, Finding, RuleKind


def _discover() -> dict[str, RuleKind]:
    found: dict[str, RuleKind] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, RuleKind)
                    and value.__module__ == module.__name__ and "kind" in vars(value)):
                if value.kind in found:
                    raise RuntimeError(f"rule kind {value.kind!r} is declared twice")
                found[value.kind] = value()
    return dict(sorted(found.items()))


KINDS: dict[str, RuleKind] = _discover()


def referenced_names(rules: Iterable[Rule]) -> tuple[str, ...]:
    """The names ``rules`` match references to, each once, in order (:meth:`RuleKind.referenced`:
    what the kinds' ``names`` keys hold)."""
    return tuple(dict.fromkeys(
        name for rule in rules if rule.kind in KINDS for name in KINDS[rule.kind].referenced(rule)))


__all__ = ["KINDS", "Example", "Finding", "RuleKind", "referenced_names"]

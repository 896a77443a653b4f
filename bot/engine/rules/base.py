"""What every rule kind is: a small class with examples, a prefilter and a check over facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from bot.config.model import Rule
from bot.engine.names import AliasTable, last_component, matches_symbol, prefixes
from bot.engine.rules.facts import Facts, Ref, StringAnnotation


@dataclass(frozen=True, slots=True)
class Example:
    """Code that a rule kind must flag (INVALID) or must leave alone (VALID).

    ``lines``: for INVALID examples, the lines the violations are expected on (in order).
    """

    code: str
    rule: Rule
    path: str = "app/module.py"
    aliases: Mapping[str, str] = field(default_factory=dict)
    lines: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ImportFix:
    """Rewrite the whole (single-statement) import line to ``text``, indentation kept."""

    stmt: cst.Import | cst.ImportFrom
    line: cst.SimpleStatementLine | cst.SimpleStatementSuite
    text: str


@dataclass(frozen=True, slots=True)
class NameFix:
    """Replace the flagged node's own text by ``text``."""

    text: str


@dataclass(slots=True)
class Finding:
    """A violation before positions are known. ``nodes``: candidates, the earliest one is used."""

    rule: Rule
    nodes: Sequence[cst.CSTNode]
    string: StringAnnotation | None = None
    fix: ImportFix | NameFix | None = None


class RuleKind:
    """One kind of SSOT rule (``banned-import``...). Subclasses live in ``rules/<kind>.py``."""

    kind: ClassVar[str]
    VALID: ClassVar[tuple[Example, ...]] = ()
    INVALID: ClassVar[tuple[Example, ...]] = ()

    def required_names(self, rule: Rule, aliases: AliasTable) -> tuple[frozenset[str], ...]:
        """Prefilter: groups of identifiers; the rule can only match text holding one of each."""
        return (_names_for(rule.symbols, aliases),)

    def check(self, rule: Rule, facts: Facts) -> list[Finding]:
        raise NotImplementedError


def _names_for(symbols: Sequence[str], aliases: AliasTable) -> frozenset[str]:
    names: set[str] = set()
    for s in symbols:
        names.add(last_component(s))
        names.update(last_component(k) for k in aliases.keys_reaching(s))
    return frozenset(n for n in names if n)


def symbol_hit(qualified: str, symbols: Sequence[str]) -> str | None:
    """The listed symbol ``qualified`` is or lies in (the longest one), else None."""
    best: str | None = None
    for s in symbols:
        if matches_symbol(qualified, s) and (best is None or len(s) > len(best)):
            best = s
    return best


def ref_hit(
    facts: Facts, ref: Ref, symbols: Sequence[str]
) -> tuple[cst.BaseExpression, str] | None:
    """The node of ``ref``'s chain that names a listed symbol, and that symbol."""
    if not ref.dotted:
        return None
    for qualified in facts.resolve(ref):
        symbol = symbol_hit(qualified, symbols)
        if symbol is not None:
            extra = qualified.count(".") - symbol.count(".")
            node = ref.node
            for _ in range(min(extra, ref.dotted.count("."))):
                assert isinstance(node, cst.Attribute)
                node = node.value
            return node, symbol
    return None


def split_use(use: str | None) -> tuple[str, str] | None:
    if not use or "." not in use:
        return None
    module, _, name = use.rpartition(".")
    return module, name


__all__ = [
    "Example",
    "Finding",
    "ImportFix",
    "NameFix",
    "RuleKind",
    "prefixes",
    "ref_hit",
    "split_use",
    "symbol_hit",
]

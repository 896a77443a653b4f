"""Rule kinds, one small class per kind (Fixit-style: each carries VALID/INVALID examples)."""

from __future__ import annotations

from bot.engine.rules.banned_annotation import BannedAnnotation
from bot.engine.rules.banned_call import BannedCall
from bot.engine.rules.banned_import import BannedImport
from bot.engine.rules.base import Example, Finding, RuleKind
from bot.engine.rules.canonical_definition import CanonicalDefinition
from bot.engine.rules.dual_pattern import DualPattern

KINDS: dict[str, RuleKind] = {
    k.kind: k
    for k in (
        BannedImport(),
        BannedAnnotation(),
        BannedCall(),
        DualPattern(),
        CanonicalDefinition(),
    )
}

__all__ = ["KINDS", "Example", "Finding", "RuleKind"]

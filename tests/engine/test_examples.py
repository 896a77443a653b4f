"""Every VALID/INVALID example of every rule kind (Fixit-style)."""

from __future__ import annotations

import pytest

from bot.config.model import Config
from bot.engine.reexports import build_index
from bot.engine.rules import KINDS
from bot.engine.rules.base import Example
from bot.engine.run import analyse_source

CASES = [
    pytest.param(kind, ex, valid, id=f"{kind}-{'valid' if valid else 'invalid'}-{n}")
    for kind, k in KINDS.items()
    for valid, examples in ((True, k.VALID), (False, k.INVALID))
    for n, ex in enumerate(examples)
]


def test_every_kind_has_examples() -> None:
    for k in KINDS.values():
        assert k.VALID and k.INVALID, k.kind


@pytest.mark.parametrize(("kind", "example", "valid"), CASES)
@pytest.mark.parametrize("prefilter", [True, False])
def test_example(kind: str, example: Example, valid: bool, prefilter: bool) -> None:
    assert example.rule.kind == kind
    cfg = Config(rules=(example.rule,), aliases=dict(example.aliases))
    tree = {**example.modules, example.path: example.code}
    cfg = build_index(tree.items(), cfg).as_config(cfg)
    result = analyse_source(example.path, example.code.encode(), cfg, prefilter=prefilter)
    assert result.error is None
    lines = tuple(v.line for v in result.violations)
    if valid:
        assert lines == (), example.code
    else:
        assert lines == example.lines, example.code
        assert all(v.rule == example.rule.id and v.kind == kind for v in result.violations)

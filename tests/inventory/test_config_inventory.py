"""``tracking.inventory`` (docs/behaviour.md §11): ids and globs expanded, problems named with
FILE:LINE."""

from __future__ import annotations

import pytest

from bot.config.loader import load_config_text
from bot.config.model import ConfigError, InventoryTarget

RULES = """version: 1
rules:
  - id: ws-legacy-import
    kind: banned-import
    symbols: [a.b.C]
    message: Do not.
  - id: ws-dual-pattern
    kind: dual-pattern
    legacy: [a.b.C]
    ssot: [a.d.E]
    message: Do not.
  - id: other
    kind: banned-call
    symbols: [a.b.C]
    message: Do not.
"""


def problems(tracking: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config_text(RULES + tracking, ".github/ssot.yml")
    return [str(p) for p in caught.value.problems]


def test_ids_and_globs_are_expanded() -> None:
    config = load_config_text(RULES + "tracking:\n  inventory:\n    - issue: 1103\n"
                              "      rules: [ws-*, other, ws-legacy-import]\n",
                              ".github/ssot.yml")
    assert config.tracking.inventory == (
        InventoryTarget(1103, ("ws-legacy-import", "ws-dual-pattern", "other"), line=18),)


def test_unknown_rule_is_an_error_with_its_line() -> None:
    assert problems("tracking:\n  inventory:\n    - issue: 5\n      rules: [ws-*, nope]\n") == [
        ".github/ssot.yml:19: tracking.inventory[0].rules: 'nope' names no rule of this file"]


@pytest.mark.parametrize("tracking, expected", [
    ("tracking:\n  inventory: 5\n", ".github/ssot.yml:17: tracking.inventory must be a list"),
    ("tracking:\n  inventory:\n    - issue: 0\n      rules: [other]\n",
     ".github/ssot.yml:18: tracking.inventory[0].issue must be an issue number"),
    ("tracking:\n  inventory:\n    - rules: [other]\n",
     ".github/ssot.yml:18: tracking.inventory[0]: missing required key 'issue'"),
    ("tracking:\n  inventory:\n    - issue: 3\n",
     ".github/ssot.yml:18: tracking.inventory[0]: missing required key 'rules'"),
    ("tracking:\n  inventory:\n    - issue: 3\n      rules: [other]\n      when: always\n",
     ".github/ssot.yml:20: unknown key 'when' in tracking.inventory[0]"),
])
def test_problems_name_file_and_line(tracking: str, expected: str) -> None:
    found = problems(tracking)
    assert any(p.startswith(expected) for p in found), found

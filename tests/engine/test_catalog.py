"""What is derived from the rule kinds' declarations is fresh (scripts/generate_kinds.py), and
one declaration per kind is enough: a kind module is found without being registered."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.config.keys import KEY_TYPES, rule_fields
from bot.config.kinds import KIND_NAMES, KIND_SPECS
from bot.config.model import Rule
from bot.engine import catalog
from bot.engine.rules import KINDS, referenced_names

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_kinds.py"


@pytest.mark.parametrize("rel", [catalog.KINDS_FILE, catalog.MODEL_FILE, catalog.SCHEMA_FILE,
                                 catalog.YAML_FILE, catalog.DOCS_FILE])
def test_generated_files_are_fresh(rel: str) -> None:
    text = catalog.outputs(ROOT)[rel]
    assert (ROOT / rel).read_text(encoding="utf-8") == text, (
        f"{rel} is stale: run python scripts/generate_kinds.py")


def test_the_script_check_mode_agrees() -> None:
    run = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                         text=True, check=False, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr


def test_configuration_and_engine_name_the_same_kinds_and_keys() -> None:
    assert tuple(KINDS) == KIND_NAMES
    assert catalog.specs() == KIND_SPECS
    for kind in KINDS.values():
        assert kind.summary and kind.keys and kind.VALID and kind.INVALID, kind.kind
        for key in kind.keys:
            assert key.type in KEY_TYPES and key.description, (kind.kind, key.name)


def test_a_rule_field_is_one_type_for_every_kind() -> None:
    fields = rule_fields(catalog.specs())
    assert len(fields) == len({f.split(":")[0] for f in fields})


def test_the_bundled_config_is_valid_against_the_schema() -> None:
    schema = yaml.safe_load((ROOT / catalog.SCHEMA_FILE).read_text())
    config = yaml.safe_load((ROOT / catalog.YAML_FILE).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(config)) == []


def test_every_key_of_the_schema_has_a_description() -> None:
    schema = yaml.safe_load((ROOT / catalog.SCHEMA_FILE).read_text())

    def walk(node: object, path: str) -> list[str]:
        missing: list[str] = []
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                if isinstance(sub, dict) and "description" not in sub and "not" not in sub:
                    missing.append(f"{path}.{name}")
            for key, sub in node.items():
                if key != "if":  # a branch's condition, not a key
                    missing += walk(sub, f"{path}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                missing += walk(sub, f"{path}[{i}]")
        return missing

    assert walk(schema, "") == []


def test_each_kind_branch_names_the_keys_it_takes() -> None:
    schema = yaml.safe_load((ROOT / catalog.SCHEMA_FILE).read_text())
    branches = schema["$defs"]["rule"]["allOf"]
    assert [b["if"]["properties"]["kind"]["const"] for b in branches] == list(KIND_NAMES)
    call = branches[list(KIND_NAMES).index("banned-call")]["then"]
    assert "description" in call["properties"]["allow"]
    assert call["properties"]["legacy"] is False
    assert call["errorMessage"] == (
        "this key does not apply to kind banned-call (it takes symbols, use, allow)")


def test_the_names_a_rule_is_about_come_from_its_kinds_declared_keys() -> None:
    dual = Rule(id="d", kind="dual-pattern", message="m", legacy=("a.Old",), ssot=("b.New",))
    banned = Rule(id="b", kind="banned-call", message="m", symbols=("a.Old", "c.X"),
                  use="b.New")
    canonical = Rule(id="c", kind="canonical-definition", message="m",
                     canonical={"Thing": "pkg/thing.py"})
    assert KINDS["dual-pattern"].referenced(dual) == ("a.Old", "b.New")
    assert KINDS["banned-call"].referenced(banned) == ("a.Old", "c.X")  # not `use`
    assert KINDS["canonical-definition"].referenced(canonical) == ()
    assert KINDS["canonical-definition"].named(canonical) == ("Thing",)
    assert referenced_names([dual, banned, canonical]) == ("a.Old", "b.New", "c.X")

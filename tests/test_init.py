"""``ssot-bot init`` (issue 20 item 6): the commented example and its schema, a schema line that
resolves, and ``check`` then reads the written configuration."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.cli import main
from bot.config.loader import bundled_config_text, load_config_file
from bot.config.schema import schema_text

DEMO = Path(__file__).resolve().parents[1] / "bot/data/demo/netra-apex"


def test_init_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--root", str(tmp_path)]) == 0
    config = tmp_path / ".github" / "ssot.yml"
    schema = tmp_path / ".github" / "ssot.schema.json"
    assert config.read_text() == bundled_config_text()
    assert schema.read_text() == schema_text()
    # the schema line resolves, relative to the configuration file
    first = config.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=ssot.schema.json"
    target = config.parent / first.split("=", 1)[1]
    assert target.is_file()
    # the written configuration is valid against the written schema (as an editor checks it)
    document = json.loads(target.read_text())
    validator = jsonschema.Draft202012Validator(document)
    assert list(validator.iter_errors(yaml.safe_load(config.read_text()))) == []
    assert load_config_file(config).rules
    capsys.readouterr()
    # ``check`` reads .github/ssot.yml: the demo's violations are found with it
    shutil.copytree(DEMO / "netra_backend", tmp_path / "netra_backend")
    assert main(["check", "--root", str(tmp_path), "--jobs", "0", "--format", "json"]) == 1
    assert '"ws-legacy-import"' in capsys.readouterr().out


def test_init_never_overwrites_without_force(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "ssot.yml").write_text("version: 1\n")
    assert main(["init", "--root", str(tmp_path)]) == 2
    assert "exists" in capsys.readouterr().err
    assert (tmp_path / ".github" / "ssot.yml").read_text() == "version: 1\n"
    assert main(["init", "--root", str(tmp_path), "--force"]) == 0
    assert main(["init", "--root", str(tmp_path / "missing")]) == 2


def test_a_key_of_another_kind_is_named_in_the_editor_and_the_loader(tmp_path: Path) -> None:
    schema = json.loads(schema_text())
    rule = {"id": "x", "kind": "banned-import", "message": "m", "symbols": ["a.B"],
            "allow": ["x/**"]}
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors({"rules": [rule]}))
    # refused by a ``false`` schema in the kind's branch, whose ``errorMessage`` the YAML
    # language server shows (tests/config/test_editor.py asks the server itself)
    assert [(e.schema, e.instance) for e in errors] == [(False, ["x/**"])]
    (branch,) = [b["then"] for b in schema["$defs"]["rule"]["allOf"]
                 if b["if"]["properties"]["kind"]["const"] == "banned-import"]
    assert branch["errorMessage"] == (
        "this key does not apply to kind banned-import (it takes symbols, use)")
    path = tmp_path / "ssot.yml"
    path.write_text(yaml.safe_dump({"version": 1, "rules": [rule]}))
    with pytest.raises(Exception, match=r"\[x\] key 'allow' does not apply to kind "
                                        r"banned-import \(symbols, use\)"):
        load_config_file(path)

"""ssot.yml loading: defaults, the bundled config, and every problem reported with its line."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.config.loader import (
    MAX_CONFIG_BYTES,
    bundled_config,
    bundled_config_text,
    load_config_file,
    load_config_text,
)
from bot.config.model import RULE_KINDS, Config, ConfigError, ConfigProblem, Limits, PathFilter
from bot.config.schema import KIND_KEYS, SCHEMA_FILE, schema_text

ROOT = Path(__file__).resolve().parents[2]
WSM = "netra_backend.app.websocket_core.websocket_manager.WebSocketManager"


def load(text: str) -> Config:
    return load_config_text(textwrap.dedent(text), "ssot.yml")


def problems(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as info:
        load(text)
    assert info.value.problems, "a ConfigError must list its problems"
    return info.value.problems


def lines(text: str) -> list[str]:
    return [str(p) for p in problems(text)]


MINIMAL_RULE = """\
  - id: no-legacy
    kind: banned-import
    symbols: [a.b.Legacy]
    message: use the new one
"""


# -- valid configurations ------------------------------------------------------------------


def test_defaults_follow_the_contract() -> None:
    config = load("version: 1\nrules: []\n")
    assert config.check_name == "SSOT"
    assert config.fail_on == "new"
    assert config.review == "comment"
    assert config.max_review_comments == 30
    assert config.file_time_budget == 10.0
    assert config.paths == PathFilter(("**/*.py",), ())
    assert config.rules == ()
    assert config.aliases == {}
    assert config.source == "ssot.yml"


def test_every_top_level_key_is_read() -> None:
    config = load(
        """\
        version: 1
        check_name: Single source
        fail_on: any
        review: request-changes
        max_review_comments: 0
        file_time_budget: 2.5
        paths:
          include: ["src/**/*.py"]
          exclude: ["src/vendor/**"]
        aliases:
          pkg.Thing: pkg.impl.Thing
        rules: []
        """
    )
    assert config.check_name == "Single source"
    assert config.fail_on == "any"
    assert config.review == "request-changes"
    assert config.max_review_comments == 0
    assert config.file_time_budget == 2.5
    assert config.paths == PathFilter(("src/**/*.py",), ("src/vendor/**",))
    assert dict(config.aliases) == {"pkg.Thing": "pkg.impl.Thing"}


def test_unquoted_off_is_the_review_mode_not_a_boolean() -> None:
    assert load("version: 1\nreview: off\n").review == "off"


def test_rules_of_every_kind_and_their_defaults() -> None:
    config = load(
        """\
        version: 1
        rules:
          - id: imp
            kind: banned-import
            symbols: [a.b.Legacy]
            use: a.c.New
            message: m1
          - id: ann
            kind: banned-annotation
            symbols: [a.b.Legacy]
            message: m2
            severity: warning
          - id: call
            kind: banned-call
            symbols: [a.b.Legacy]
            allow: ["a/b/**"]
            message: m3
            paths: {include: ["src/**"], exclude: ["src/tests/**"]}
          - id: dual
            kind: dual-pattern
            legacy: [a.b.Legacy]
            ssot: [a.c.New, a.c.make]
            message: m4
            severity: notice
          - id: canon
            kind: canonical-definition
            symbols:
              New: a/c.py
            message: m5
        """
    )
    imp, ann, call, dual, canon = config.rules
    assert (imp.kind, imp.symbols, imp.use, imp.severity) == (
        "banned-import",
        ("a.b.Legacy",),
        "a.c.New",
        "error",
    )
    assert imp.paths == PathFilter(("**",), ())
    assert imp.line == 3
    assert ann.severity == "warning" and ann.use is None
    assert call.allow == ("a/b/**",)
    assert call.paths == PathFilter(("src/**",), ("src/tests/**",))
    assert dual.legacy == ("a.b.Legacy",) and dual.ssot == ("a.c.New", "a.c.make")
    assert dict(canon.canonical) == {"New": "a/c.py"}
    assert canon.line == 25


def test_rule_paths_with_only_exclude_keep_the_default_include() -> None:
    config = load(
        """\
        version: 1
        rules:
          - id: r
            kind: banned-call
            symbols: [a.B]
            message: m
            paths: {exclude: ["tests/**"]}
        """
    )
    assert config.rules[0].paths == PathFilter(("**",), ("tests/**",))


def test_utf8_bom_is_accepted() -> None:
    assert load_config_text("\ufeffversion: 1\n", "x.yml").version == 1


# -- the bundled default ---------------------------------------------------------------------


def test_bundled_config_is_the_seed_websocket_rules() -> None:
    config = bundled_config()
    by_id = {r.id: r for r in config.rules}
    assert set(by_id) == {
        "ws-legacy-import",
        "ws-legacy-annotation",
        "ws-direct-instantiation",
        "ws-dual-pattern",
        "ws-bridge-canonical",
    }
    bridge = "netra_backend.app.services.agent_websocket_bridge"
    assert by_id["ws-legacy-import"].kind == "banned-import"
    assert by_id["ws-legacy-import"].symbols == (WSM,)
    assert by_id["ws-legacy-import"].use == f"{bridge}.create_agent_websocket_bridge"
    assert by_id["ws-legacy-annotation"].kind == "banned-annotation"
    assert by_id["ws-legacy-annotation"].use == f"{bridge}.AgentWebSocketBridge"
    assert by_id["ws-direct-instantiation"].kind == "banned-call"
    assert by_id["ws-direct-instantiation"].allow
    assert by_id["ws-dual-pattern"].legacy == (WSM,)
    assert set(by_id["ws-dual-pattern"].ssot) == {
        f"{bridge}.create_agent_websocket_bridge",
        f"{bridge}.AgentWebSocketBridge",
    }
    assert dict(by_id["ws-bridge-canonical"].canonical) == {
        "AgentWebSocketBridge": "netra_backend/app/services/agent_websocket_bridge.py"
    }
    assert config.fail_on == "new" and config.check_name == "SSOT"


def test_bundled_config_is_packaged_as_the_repository_file() -> None:
    link = ROOT / "bot" / "data" / "ssot.yml"
    assert link.is_symlink(), "bot/data/ssot.yml must stay a symlink to config/ssot.yml"
    assert bundled_config_text() == (ROOT / "config" / "ssot.yml").read_text(encoding="utf-8")


# -- problems: each names the file, the line and the rule ------------------------------------


def test_problem_format_is_file_line_rule_message() -> None:
    [problem] = problems("version: 1\nrules:\n" + MINIMAL_RULE + "    colour: red\n")
    assert str(problem) == "ssot.yml:7: [no-legacy] unknown key 'colour'"


def test_every_problem_is_reported_not_just_the_first() -> None:
    found = lines(
        """\
        version: 2
        fail_on: sometimes
        surprise: true
        rules:
          - id: Bad_Id
            kind: banned-thing
            message: m
          - id: ok-id
            kind: banned-import
            symbols: ["not a dotted name"]
            message: m
            paths: {include: ["[unbalanced"]}
        """
    )
    assert any(s.startswith("ssot.yml:1:") and "version" in s for s in found)
    assert any(s.startswith("ssot.yml:2:") and "fail_on" in s for s in found)
    assert any(s.startswith("ssot.yml:3:") and "unknown key 'surprise'" in s for s in found)
    assert any(s.startswith("ssot.yml:5: [rules[0]]") and "Bad_Id" in s for s in found)
    assert any(s.startswith("ssot.yml:6: [rules[0]]") and "kind" in s for s in found)
    assert any(s.startswith("ssot.yml:10: [ok-id]") and "dotted" in s for s in found)
    assert any(s.startswith("ssot.yml:12: [ok-id]") and "[unbalanced" in s for s in found)
    assert len(found) == 7


def test_duplicate_rule_ids_name_both_lines() -> None:
    text = "version: 1\nrules:\n" + MINIMAL_RULE + MINIMAL_RULE
    [problem] = problems(text)
    assert problem.line == 7
    assert problem.rule == "no-legacy"
    assert "duplicate rule id" in problem.message
    assert "3" in problem.message and "7" in problem.message


def test_duplicate_yaml_keys_are_an_error() -> None:
    [problem] = problems("version: 1\nfail_on: new\nfail_on: any\n")
    assert problem.line == 3
    assert "duplicate key 'fail_on'" in problem.message and "line 2" in problem.message


@pytest.mark.parametrize(
    ("rule_body", "needle"),
    [
        ("kind: banned-import\n    symbols: [a.B]\n", "missing required key 'message'"),
        ("kind: banned-import\n    message: m\n", "missing required key 'symbols'"),
        ("kind: dual-pattern\n    legacy: [a.B]\n    message: m\n", "'ssot'"),
        ("kind: banned-import\n    symbols: []\n    message: m\n", "at least one"),
        ("kind: banned-import\n    symbols: a.B\n    message: m\n", "must be a list"),
        ("kind: banned-import\n    symbols: [a.B]\n    use: not-dotted\n    message: m\n", "use"),
        ("kind: banned-import\n    symbols: [a.B]\n    allow: [x]\n    message: m\n", "allow"),
        (
            "kind: banned-call\n    symbols: [a.B]\n    message: m\n    severity: fatal\n",
            "severity",
        ),
        ("kind: canonical-definition\n    symbols: [a.B]\n    message: m\n", "mapping"),
        ("kind: canonical-definition\n    symbols: {B: /abs.py}\n    message: m\n", "relative"),
        ("kind: banned-call\n    symbols: [a.B]\n    message: ''\n", "empty"),
        ("kind: banned-call\n    symbols: [class.B]\n    message: m\n", "dotted"),
    ],
)
def test_rule_problems(rule_body: str, needle: str) -> None:
    text = f"version: 1\nrules:\n  - id: r1\n    {rule_body}"
    found = problems(text)
    assert any(needle in p.message and p.rule == "r1" for p in found), found
    assert all(p.line >= 3 for p in found)


def test_missing_id_is_named_by_position() -> None:
    found = problems(
        "version: 1\nrules:\n  - kind: banned-call\n    symbols: [a.B]\n    message: m\n"
    )
    assert [(p.line, p.rule) for p in found] == [(3, "rules[0]")]
    assert "missing required key 'id'" in found[0].message


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("", 1, "empty"),
        ("# only a comment\n", 1, "empty"),
        ("- a\n- b\n", 1, "mapping"),
        ("version: 1\nrules: [\n", 3, "YAML syntax error"),
        ("version: 1\n  bad: indent\n", 2, "YAML syntax error"),
        ("version: 1\nmax_review_comments: -1\n", 2, "0 or more"),
        ("version: 1\nmax_review_comments: many\n", 2, "integer"),
        ("version: 1\nfile_time_budget: 0\n", 2, "more than 0"),
        ("version: 1\nfile_time_budget: .inf\n", 2, "number"),
        ("version: 1\nversion: 1\n", 2, "duplicate"),
        ("version: one\n", 1, "integer"),
        ("version: 1\npaths: {include: '**/*.py'}\n", 2, "list"),
        ("version: 1\npaths: {only: []}\n", 2, "unknown key 'only'"),
        ("version: 1\naliases: {a.B: 'not dotted'}\n", 2, "dotted"),
        ("version: 1\nrules: {a: 1}\n", 2, "list"),
        ("version: 1\nrules: [3]\n", 2, "mapping"),
        ("a: 1\n---\nb: 2\n", 2, "YAML syntax error"),
    ],
)
def test_document_problems(text: str, line: int, needle: str) -> None:
    found = problems(text)
    assert any(p.line == line and needle in p.message for p in found), found


def test_yaml_alias_bomb_is_rejected_without_expanding_it() -> None:
    bomb = ["version: 1", 'a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 30):
        prev = f"*a{i - 1}"
        bomb.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    [problem] = problems("\n".join(bomb) + "\n")
    assert (problem.line, problem.message) == (3, "aliases are not allowed")


def test_huge_configuration_is_refused(tmp_path: Path) -> None:
    text = "version: 1\n" + "# padding\n" * (MAX_CONFIG_BYTES // 10 + 1)
    [problem] = problems(text)
    assert "larger than" in problem.message
    big = tmp_path / "ssot.yml"
    big.write_text(text)
    with pytest.raises(ConfigError, match="larger than"):
        load_config_file(big)


def test_load_config_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ssot.yml"
    path.write_text("version: 1\nbogus: 1\n")
    with pytest.raises(ConfigError) as info:
        load_config_file(path)
    assert str(info.value).startswith(f"{path}:2: unknown key 'bogus'")
    assert info.value.problems[0].file == str(path)


def test_load_config_file_reports_unreadable_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config_file(tmp_path / "missing.yml")
    latin = tmp_path / "latin.yml"
    latin.write_bytes(b"version: 1\ncheck_name: caf\xe9\n")
    with pytest.raises(ConfigError) as info:
        load_config_file(latin)
    assert info.value.problems[0].line == 2
    assert "UTF-8" in info.value.problems[0].message


# -- limits and tracking: every key and its bounds ---------------------------------------------


def test_limits_and_tracking_are_read() -> None:
    config = load(
        """\
        version: 1
        limits:
          max_file_bytes: 2048
          max_files: 10
          max_total_bytes: 4096
          max_annotations: 0
          analysis_time_budget: 30
          max_module_fetches: 5
          max_inventory_files: 100
        tracking:
          repositories: [Acme/Infra, acme/docs]
          closing_step: none
          inventory:
            - issue: 1103
              rules: [no-*]
        rules:
          - {id: no-legacy, kind: banned-import, symbols: [a.B], message: m}
        """
    )
    limits = config.limits
    assert (limits.max_file_bytes, limits.max_files, limits.max_total_bytes) == (2048, 10, 4096)
    assert limits.max_annotations == 0 and limits.analysis_time_budget == 30.0
    assert isinstance(limits.analysis_time_budget, float)
    assert (limits.max_module_fetches, limits.max_inventory_files) == (5, 100)
    assert config.tracking.repositories == ("acme/infra", "acme/docs")
    assert config.tracking.closing_step == "none"
    [target] = config.tracking.inventory
    assert (target.issue, target.rules, target.line) == (1103, ("no-legacy",), 14)


def test_empty_limits_and_tracking_are_the_defaults() -> None:
    config = load("version: 1\nlimits:\ntracking:\n")
    assert config.limits == Limits()
    assert config.tracking.closing_step == "last" and config.tracking.repositories == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("limits: {max_file_bytes: 0}",
         "limits.max_file_bytes must be from 1 to 20971520, not 0"),
        ("limits: {max_file_bytes: 20971521}",
         "limits.max_file_bytes must be from 1 to 20971520, not 20971521"),
        ("limits: {max_files: 3001}", "limits.max_files must be from 1 to 3000, not 3001"),
        ("limits: {analysis_time_budget: 1.0e+300}",
         "limits.analysis_time_budget must be from 1 to 3600, not 1e+300"),
        ("limits: {max_annotations: 2.5}",
         "limits.max_annotations must be an integer, not a number"),
        ("limits: {max_files: '10'}", "limits.max_files must be an integer, not '10'"),
        ("limits: {max_cpu: 1}", "unknown key 'max_cpu' in limits (max_file_bytes, max_files, "
         "max_total_bytes, max_annotations, analysis_time_budget, max_module_fetches, "
         "max_inventory_files, inventory_time_budget)"),
        ("limits: {inventory_time_budget: 3601}",
         "limits.inventory_time_budget must be from 1 to 3600, not 3601"),
        ("tracking: {repositories: ['..']}",
         "tracking.repositories: '..' is not a repository (owner/name)"),
        ("tracking: {repositories: [acme/.]}",
         "tracking.repositories: 'acme/.' is not a repository (owner/name)"),
        ("tracking: {closing_step: first}",
         "tracking.closing_step must be one of last, none, not 'first'"),
        ("tracking: {inventory: [{issue: 0, rules: [r1]}]}",
         "tracking.inventory[0].issue must be an issue number"),
        ("tracking: {inventory: [{rules: [r1]}]}",
         "tracking.inventory[0]: missing required key 'issue'"),
        ("tracking: {inventory: [{issue: 1, rules: [zz-*]}]}",
         "tracking.inventory[0].rules: 'zz-*' names no rule of this file"),
        ("tracking: {owner: me}",
         "unknown key 'owner' in tracking (repositories, closing_step, inventory)"),
        ("file_time_budget: 61", "file_time_budget must be more than 0 and at most 60"),
        ("file_time_budget: .nan", "file_time_budget must be a number, not '.nan'"),
    ],
)
def test_limits_and_tracking_problems(text: str, expected: str) -> None:
    rules = "rules:\n  - {id: r1, kind: banned-import, symbols: [a.B], message: m}\n"
    found = lines(f"version: 1\n{rules}{text}\n")
    assert found == [f"ssot.yml:4: {expected}"]


def test_keys_of_another_kind_name_the_kind_and_its_keys() -> None:
    [problem] = problems("version: 1\nrules:\n" + MINIMAL_RULE + "    allow: [x]\n")
    assert str(problem) == (
        "ssot.yml:7: [no-legacy] key 'allow' does not apply to kind banned-import (symbols, use)"
    )


def test_missing_kind_key_names_the_kind() -> None:
    [problem] = problems("version: 1\nrules:\n  - id: d\n    kind: dual-pattern\n"
                         "    legacy: [a.B]\n    message: m\n")
    assert str(problem) == "ssot.yml:3: [d] missing required key 'ssot' for kind dual-pattern"


def test_yaml_1_1_booleans_are_strings_but_true_is_a_boolean() -> None:
    assert load("review: off\n").review == "off"
    [problem] = problems("check_name: true\n")
    assert str(problem) == "ssot.yml:1: check_name must be a string, not a boolean"


def test_problems_are_capped() -> None:
    text = "version: 1\n" + "".join(f"k{i}: 1\n" for i in range(300))
    found = lines(text)
    assert len(found) == 101
    assert found[-1].endswith("... and 200 more problems")


# -- the JSON Schema -------------------------------------------------------------------------


def test_committed_schema_is_the_generated_one() -> None:
    committed = (ROOT / SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == schema_text(), "run: ssot-bot schema > config/ssot.schema.json"


def test_schema_is_valid_and_accepts_the_bundled_config() -> None:
    schema = json.loads(schema_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(bundled_config_text()), schema)


def test_bundled_config_names_its_schema_for_editors() -> None:
    first = bundled_config_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=ssot.schema.json"
    assert (ROOT / "config" / first.split("=", 1)[1]).is_file()


def test_every_engine_kind_declares_its_keys() -> None:
    from bot.engine.rules import KINDS

    assert {k.kind for k in KIND_KEYS} == set(KINDS) == set(RULE_KINDS)


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["schema"]) == 0
    assert capsys.readouterr().out == schema_text()


def test_path_filter_agrees_with_path_matches() -> None:
    import random

    from bot.config.globs import path_filter, path_matches
    from bot.config.model import PathFilter

    rng = random.Random(7)
    parts = ["a", "b.py", ".py", "c.pyc", "py", "d.PY", "x.py.txt", "_"]
    paths = ["/".join(rng.choice(parts) for _ in range(rng.randint(1, 4))) for _ in range(3000)]
    for f in (PathFilter(), PathFilter(("src/**/*.py",), ("**/tests/**",))):
        fast = path_filter(f)
        assert [fast(p) for p in paths] == [path_matches(f, p) for p in paths]

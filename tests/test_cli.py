"""``ssot-bot check`` through ``main([...])``: file selection, diffs, config errors, formats, exit
codes, all with the real engine: first over a small temporary repository whose code the
``no-legacy`` rule (a ``banned-call`` of ``pkg.legacy.Legacy``) flags, then over
``examples/netra-apex``."""

from __future__ import annotations

import io
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from tests.gitrepo import NEEDS_GIT, git

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "netra-apex"
FACTORY = "netra_backend/app/agents/supervisor/agent_instance_factory.py"

CONFIG = """\
version: 1
fail_on: new
rules:
  - id: no-legacy
    kind: banned-call
    symbols: [pkg.legacy.Legacy]
    message: Do not use Legacy.
"""

IMPORT = "from pkg.legacy import Legacy\n"
# Every call of Legacy after IMPORT is a violation of no-legacy; `x = Legacy()` is at column 5.
FLAGGED = IMPORT + "Legacy()\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small repository: two files that call Legacy (line 2 of each), one clean, and some
    that are skipped (they would be flagged if they were checked)."""
    files = {
        ".github/ssot.yml": CONFIG,
        "pkg/__init__.py": "",
        "pkg/a.py": IMPORT + "x = Legacy()\ny = 1\n",
        "pkg/b.py": IMPORT + "w = Legacy()\n",
        "pkg/clean.py": "ok = True\n",
        "README.md": FLAGGED,  # not a Python file
        ".venv/lib/site.py": FLAGGED,
        "node_modules/x/y.py": FLAGGED,
        "pkg/__pycache__/a.py": FLAGGED,
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(capsys, *argv, "--format", "json")
    assert code in (0, 1), err
    return code, json.loads(out)


def found(doc: dict[str, Any]) -> list[tuple[str, int, bool]]:
    return [(v["path"], v["line"], v["new"]) for v in doc["violations"]]


# -- file selection, config lookup ---------------------------------------------------------


def test_walks_the_root_with_the_repository_config(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc = run_json(capsys, "check", "--root", str(repo))
    assert code == 1
    assert found(doc) == [("pkg/a.py", 2, True), ("pkg/b.py", 2, True)]
    assert doc["files_checked"] == 4  # __init__, a, b, clean; .venv, node_modules... skipped
    assert {v["rule"] for v in doc["violations"]} == {"no-legacy"}
    assert (doc["violations"][0]["column"], doc["violations"][0]["end_column"]) == (5, 13)
    assert doc["errors"] == []


def test_paths_are_files_or_directories_relative_to_the_root(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    code, doc = run_json(capsys, "check", "pkg/b.py")
    assert (code, found(doc), doc["files_checked"]) == (1, [("pkg/b.py", 2, True)], 1)
    code, doc = run_json(capsys, "check", "pkg/clean.py", "pkg/clean.py")
    assert (code, found(doc), doc["files_checked"]) == (0, [], 1)
    monkeypatch.chdir(repo / "pkg")
    code, doc = run_json(capsys, "check", "--root", "..", ".")
    assert doc["files_checked"] == 4
    assert found(doc) == [("pkg/a.py", 2, True), ("pkg/b.py", 2, True)]


def test_missing_path_and_path_outside_root_are_usage_errors(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    code, out, err = run(capsys, "check", "--root", str(repo), str(repo / "nope.py"))
    assert code == 2 and out == ""
    assert "nope.py: no such file or directory" in err
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    code, _, err = run(capsys, "check", "--root", str(repo), str(elsewhere))
    assert code == 2 and "not inside the root" in err
    code, _, err = run(capsys, "check", "--root", str(repo / "missing"))
    assert code == 2 and "not a directory" in err


def test_explicit_config_and_fail_on(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    never = repo / "never.yml"
    never.write_text(CONFIG.replace("fail_on: new", "fail_on: never"))
    code, doc = run_json(capsys, "check", "--root", str(repo), "--config", str(never))
    assert code == 0 and len(doc["violations"]) == 2


def test_bundled_config_without_a_repository_config(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".github" / "ssot.yml").unlink()
    (repo / "pkg" / "ws.py").write_text(
        "from netra_backend.app.websocket_core.websocket_manager import WebSocketManager\n"
        "manager = WebSocketManager()\n"
    )
    code, doc = run_json(capsys, "check", "--root", str(repo))
    # the bundled rules know nothing of pkg.legacy; they do ban building WebSocketManager
    assert code == 1
    assert [(v["rule"], v["path"], v["line"]) for v in doc["violations"]] == [
        ("ws-direct-instantiation", "pkg/ws.py", 2)
    ]


def test_unreadable_and_undecodable_files_are_errors_not_crashes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "pkg" / "latin.py").write_bytes(b"x = '\xe9'\n")
    code, doc = run_json(capsys, "check", "--root", str(repo))
    assert doc["errors"] == [{"path": "pkg/latin.py", "message": "not UTF-8 text (byte 5)"}]
    assert found(doc) == [("pkg/a.py", 2, True), ("pkg/b.py", 2, True)]
    assert code == 1


# -- configuration errors --------------------------------------------------------------------


def test_configuration_errors_exit_2_with_file_and_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = repo / ".github" / "ssot.yml"
    config.write_text(
        CONFIG + "    colour: red\n  - id: no-legacy\n    kind: nope\n    message: m\n"
    )
    code, out, err = run(capsys, "check", "--root", str(repo))
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert f"{config}:8: [no-legacy] unknown key 'colour'" in lines
    assert any(line.startswith(f"{config}:10: [no-legacy] kind must be one of") for line in lines)
    assert any(f"{config}:9: [no-legacy] duplicate rule id" in line for line in lines)


def test_missing_config_file_is_a_configuration_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "check", "--root", str(repo), "--config", str(repo / "x.yml"))
    assert code == 2 and "x.yml:1: cannot read" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "xml"]) == 2
    assert main(["check", "--diff", "a", "--diff-base", "b"]) == 2
    assert main(["check", "--jobs", "-1"]) == 2
    assert main([]) == 2
    assert main(["--version"]) == 0
    capsys.readouterr()


# -- --diff ----------------------------------------------------------------------------------

A_DIFF = """\
diff --git a/pkg/a.py b/pkg/a.py
index 1..2 100644
--- a/pkg/a.py
+++ b/pkg/a.py
@@ -1,3 +1,3 @@
 from pkg.legacy import Legacy
 x = Legacy()
-y = 0
+y = 1
"""

B_DIFF = """\
diff --git a/pkg/b.py b/pkg/b.py
index 1..2 100644
--- a/pkg/b.py
+++ b/pkg/b.py
@@ -1,2 +1,2 @@
 from pkg.legacy import Legacy
-w = None
+w = Legacy()
"""


def test_diff_checks_only_files_in_it_and_marks_touched_lines_new(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    diff = repo / "change.diff"
    diff.write_text(A_DIFF + B_DIFF)
    (repo / "pkg" / "c.py").write_text(FLAGGED)  # flagged, but not in the diff
    code, doc = run_json(capsys, "check", "--root", str(repo), "--diff", str(diff))
    assert code == 1
    assert doc["files_checked"] == 2
    assert found(doc) == [("pkg/a.py", 2, False), ("pkg/b.py", 2, True)]


def test_fail_on_new_passes_when_nothing_new(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    diff = repo / "change.diff"
    diff.write_text(A_DIFF)
    code, doc = run_json(capsys, "check", "--root", str(repo), "--diff", str(diff))
    assert code == 0
    assert found(doc) == [("pkg/a.py", 2, False)]
    any_config = repo / "any.yml"
    any_config.write_text(CONFIG.replace("fail_on: new", "fail_on: any"))
    code, _ = run_json(
        capsys, "check", "--root", str(repo), "--diff", str(diff), "--config", str(any_config)
    )
    assert code == 1


def test_diff_from_stdin_and_a_new_file(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    new_file = """\
diff --git a/pkg/a.py b/pkg/a.py
new file mode 100644
--- /dev/null
+++ b/pkg/a.py
@@ -0,0 +1,3 @@
+from pkg.legacy import Legacy
+x = Legacy()
+y = 1
"""
    monkeypatch.setattr(sys, "stdin", io.StringIO(new_file))
    code, doc = run_json(capsys, "check", "--root", str(repo), "--diff", "-")
    assert (code, found(doc), doc["files_checked"]) == (1, [("pkg/a.py", 2, True)], 1)


def test_missing_diff_file_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "--root", str(repo), "--diff", str(repo / "no.diff"))
    assert code == 2 and "--diff" in err


# -- --diff-base -----------------------------------------------------------------------------


@NEEDS_GIT
def test_diff_base_against_the_merge_base(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "init", "-q", "-b", "main")
    (repo / ".gitignore").write_text(".venv/\nnode_modules/\n__pycache__/\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "pkg" / "a.py").write_text(IMPORT + "x = Legacy()\ny = 2\nv = Legacy()\n")
    git(repo, "commit", "-q", "-am", "feature work")
    git(repo, "checkout", "-q", "main")
    (repo / "pkg" / "clean.py").write_text(FLAGGED)  # main moves on; not our change
    git(repo, "commit", "-q", "-am", "main moves")
    git(repo, "checkout", "-q", "feature")
    (repo / "pkg" / "b.py").write_text(IMPORT + "w = Legacy()\nz = 3\n")  # uncommitted edit
    (repo / "pkg" / "untracked.py").write_text(IMPORT + "u = Legacy()\n")

    code, doc = run_json(capsys, "check", "--root", str(repo), "--diff-base", "main")
    assert code == 1
    assert found(doc) == [
        ("pkg/a.py", 2, False),
        ("pkg/a.py", 4, True),
        ("pkg/b.py", 2, False),
        ("pkg/untracked.py", 2, True),
    ]
    assert doc["files_checked"] == 3

    code, _, err = run(capsys, "check", "--root", str(repo), "--diff-base", "no-such-ref")
    assert code == 2 and "git merge-base" in err


@NEEDS_GIT
def test_diff_base_from_a_subfolder_root(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "pkg", ".github")
    git(repo, "commit", "-q", "-m", "base")
    (repo / "pkg" / "b.py").write_text(IMPORT + "w = Legacy()\nq = Legacy()\n")
    (repo / "pkg" / ".github").mkdir()
    (repo / "pkg" / ".github" / "ssot.yml").write_text(CONFIG)
    code, doc = run_json(capsys, "check", "--root", str(repo / "pkg"), "--diff-base", "HEAD")
    assert found(doc) == [("b.py", 2, False), ("b.py", 3, True)]
    assert code == 1


# -- formats and progress ------------------------------------------------------------------


def test_text_format_and_summary(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--root", str(repo))
    assert code == 1
    assert out.splitlines()[0] == "pkg/a.py:2:5: no-legacy Do not use Legacy. [error, new]"
    assert out.splitlines()[-1] == "2 violations (2 new) in 2 of 4 files checked"
    assert "\x1b[" not in out  # not a terminal
    assert err == ""  # no progress bar off a terminal


def test_sarif_and_github_formats(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--root", str(repo), "--format", "sarif")
    doc = json.loads(out)
    assert code == 1 and doc["version"] == "2.1.0"
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["no-legacy", "no-legacy"]
    assert doc["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "no-legacy"
    code, out, _ = run(capsys, "check", "--root", str(repo), "--format", "github")
    assert code == 1
    assert out.splitlines()[0].startswith("::error file=pkg/a.py,line=2,col=5,")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_and_never_on_stdout(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(30):
        (repo / "pkg" / f"m{i}.py").write_text("pass\n")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _code, doc = run_json(capsys, "check", "--root", str(repo))  # json.loads: stdout is clean
    assert doc["files_checked"] == 34
    assert "] 34/34 files" in terminal.getvalue()
    assert terminal.getvalue().startswith("\r[")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    run_json(capsys, "check", "--root", str(repo), "--no-progress")
    assert terminal.getvalue() == ""


def test_jobs_do_not_change_the_result(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--jobs 0 (in this process) and --jobs 2 (worker processes) report the same."""
    (repo / "pkg" / "broken.py").write_text(IMPORT + "Legacy(\n")  # a parse error, in a worker
    outputs = []
    for jobs in ("0", "2"):
        code, out, err = run(capsys, "check", "--root", str(repo), "--format", "json", "-j", jobs)
        assert (code, err) == (1, "")
        outputs.append(out)
    assert outputs[0] == outputs[1]
    doc = json.loads(outputs[0])
    assert found(doc) == [("pkg/a.py", 2, True), ("pkg/b.py", 2, True)]
    assert [e["path"] for e in doc["errors"]] == ["pkg/broken.py"]


def test_no_prefilter_parses_files_that_name_no_rule_symbol(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the prefilter, a file that never names Legacy is not parsed, so its syntax error
    goes unseen; --no-prefilter parses every file and reports it."""
    (repo / "pkg" / "broken.py").write_text("def f(:\n")
    for jobs in ("0", "2"):
        code, doc = run_json(capsys, "check", "--root", str(repo), "-j", jobs)
        assert (code, doc["errors"]) == (1, [])
        code, doc = run_json(capsys, "check", "--root", str(repo), "-j", jobs, "--no-prefilter")
        assert code == 1
        assert [e["path"] for e in doc["errors"]] == ["pkg/broken.py"]
        assert doc["errors"][0]["message"].startswith("does not parse: line 1")
        assert found(doc) == [("pkg/a.py", 2, True), ("pkg/b.py", 2, True)]


# -- end to end: the real engine on the example repository ----------------------------------


def test_example_repository_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "check", "--root", str(EXAMPLE), "--jobs", "1")
    assert code == 1
    assert doc["errors"] == []
    in_factory = {(v["rule"], v["line"]) for v in doc["violations"] if v["path"] == FACTORY}
    assert ("ws-legacy-import", 46) in in_factory
    assert ("ws-legacy-annotation", 98) in in_factory
    assert ("ws-dual-pattern", 46) in in_factory
    by_key = {(v["rule"], v["line"]): v for v in doc["violations"]}
    # the fix also changes line 43 (imports AgentWebSocketBridge): no line suggestion, the
    # whole fix is `ssot-bot fix` (contract §16)
    assert by_key[("ws-legacy-import", 46)]["suggestion"] is None
    assert by_key[("ws-legacy-annotation", 98)]["suggestion"] is None
    assert all(v["new"] for v in doc["violations"])
    # The compliant modules and the canonical bridge itself are clean.
    flagged = {v["path"] for v in doc["violations"]}
    assert flagged == {FACTORY}, flagged


def test_example_checked_from_the_repository_root(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ssot-bot check examples/netra-apex`` from this repository: paths keep their prefix."""
    monkeypatch.chdir(ROOT)
    code, doc = run_json(capsys, "check", "examples/netra-apex", "--jobs", "1")
    assert code == 1
    prefixed = f"examples/netra-apex/{FACTORY}"
    lines = {(v["rule"], v["line"]) for v in doc["violations"] if v["path"] == prefixed}
    assert {
        ("ws-legacy-import", 46),
        ("ws-legacy-annotation", 98),
        ("ws-dual-pattern", 46),
    } <= lines


def test_example_with_a_diff_of_only_the_annotation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    diff = tmp_path / "pr.diff"
    diff.write_text(
        textwrap.dedent(
            f"""\
            diff --git a/{FACTORY} b/{FACTORY}
            index 1..2 100644
            --- a/{FACTORY}
            +++ b/{FACTORY}
            @@ -97,2 +97,2 @@ class AgentInstanceFactory:
                     # Legacy WebSocket path (to be removed, see #1103)
            -        self._websocket_manager = None
            +        self._websocket_manager: Optional[WebSocketManager] = None
            """
        )
    )
    code, doc = run_json(capsys, "check", "--root", str(EXAMPLE), "--diff", str(diff))
    assert doc["files_checked"] == 1
    new = {(v["rule"], v["line"]) for v in doc["violations"] if v["new"]}
    assert new == {("ws-legacy-annotation", 98)}
    old = {(v["rule"], v["line"]) for v in doc["violations"] if not v["new"]}
    assert ("ws-legacy-import", 46) in old
    assert code == 1


def test_building_the_parsers_imports_no_engine() -> None:
    """``ssot-bot check`` starts its workers' server before it imports the engine, so that the
    server imports it on the other core meanwhile (bot/engine/processes.py): building every
    command's parser first must import neither the engine nor libcst."""
    import subprocess

    probe = ("import sys; from bot.cli import build_parser; build_parser(); "
             "print(sorted(m for m in sys.modules if m == 'libcst' or "
             "m.startswith(('bot.engine.run', 'bot.engine.rules', 'bot.workspace.command'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"

"""``ssot-bot check`` through ``main([...])``: file selection, diffs, config errors, formats, exit
codes. The first part runs a stand-in engine (so the command's own logic is tested exactly);
the end-to-end part runs the real engine over ``examples/netra-apex``."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.config.model import Config
from bot.engine.model import FileError, FileResult, Violation

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


# -- a stand-in engine: one violation per line that mentions LEGACY ----------------------------


def fake_analyse_files(
    files: Iterable[tuple[str, bytes]],
    config: Config,
    *,
    workers: int | None = None,
    prefilter: bool = True,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    results = []
    for path, data in files:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            result = FileResult(path=path, error=FileError(path, "not UTF-8 text"))
        else:
            found = tuple(
                Violation(
                    rule=config.rules[0].id if config.rules else "rule",
                    kind="banned-call",
                    path=path,
                    line=number,
                    column=line.index("LEGACY") + 1,
                    end_line=number,
                    end_column=line.index("LEGACY") + 7,
                    severity="error",
                    message="Do not use Legacy.",
                    fingerprint=f"{path}:{number}",
                )
                for number, line in enumerate(text.splitlines(), start=1)
                if "LEGACY" in line
            )
            result = FileResult(path=path, violations=found, parsed=True)
        if on_result is not None:
            on_result(result)
        results.append(result)
    return results


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("bot.engine.pool")
    module.analyse_files = fake_analyse_files  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.engine.pool", module)


@pytest.fixture
def repo(tmp_path: Path, fake_engine: None) -> Path:
    """A small repository: two files with LEGACY lines, one clean, some that are skipped."""
    files = {
        ".github/ssot.yml": CONFIG,
        "pkg/__init__.py": "",
        "pkg/a.py": "import os\nx = LEGACY\ny = 1\n",
        "pkg/b.py": "z = 2\nw = LEGACY\n",
        "pkg/clean.py": "ok = True\n",
        "README.md": "LEGACY in a non-Python file\n",
        ".venv/lib/site.py": "LEGACY\n",
        "node_modules/x/y.py": "LEGACY\n",
        "pkg/__pycache__/a.py": "LEGACY\n",
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
    assert doc["violations"][0]["rule"] == "no-legacy"
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
    assert found(doc)[0][0] == "pkg/a.py"


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
    _code, doc = run_json(capsys, "check", "--root", str(repo))
    assert doc["violations"][0]["rule"] == "ws-legacy-import"  # the stand-in takes rule 0


def test_unreadable_and_undecodable_files_are_errors_not_crashes(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "pkg" / "latin.py").write_bytes(b"x = '\xe9'\n")
    code, doc = run_json(capsys, "check", "--root", str(repo))
    assert doc["errors"] == [{"path": "pkg/latin.py", "message": "not UTF-8 text"}]
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
 import os
 x = LEGACY
-y = 0
+y = 1
"""

B_DIFF = """\
diff --git a/pkg/b.py b/pkg/b.py
index 1..2 100644
--- a/pkg/b.py
+++ b/pkg/b.py
@@ -1,2 +1,2 @@
 z = 2
-w = OLD
+w = LEGACY
"""


def test_diff_checks_only_files_in_it_and_marks_touched_lines_new(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    diff = repo / "change.diff"
    diff.write_text(A_DIFF + B_DIFF)
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
+import os
+x = LEGACY
+y = 1
"""
    monkeypatch.setattr(sys, "stdin", io.StringIO(new_file))
    code, doc = run_json(capsys, "check", "--root", str(repo), "--diff", "-")
    assert (code, found(doc)) == (1, [("pkg/a.py", 2, True)])


def test_missing_diff_file_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "--root", str(repo), "--diff", str(repo / "no.diff"))
    assert code == 2 and "--diff" in err


# -- --diff-base -----------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode()


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_diff_base_against_the_merge_base(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "init", "-q", "-b", "main")
    (repo / ".gitignore").write_text(".venv/\nnode_modules/\n__pycache__/\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "pkg" / "a.py").write_text("import os\nx = LEGACY\ny = 2\nv = LEGACY\n")
    git(repo, "commit", "-q", "-am", "feature work")
    git(repo, "checkout", "-q", "main")
    (repo / "pkg" / "clean.py").write_text("ok = LEGACY\n")  # main moves on; not our change
    git(repo, "commit", "-q", "-am", "main moves")
    git(repo, "checkout", "-q", "feature")
    (repo / "pkg" / "b.py").write_text("z = 3\nw = LEGACY\n")  # uncommitted work-tree edit
    (repo / "pkg" / "untracked.py").write_text("u = LEGACY\n")

    code, doc = run_json(capsys, "check", "--root", str(repo), "--diff-base", "main")
    assert code == 1
    assert found(doc) == [
        ("pkg/a.py", 2, False),
        ("pkg/a.py", 4, True),
        ("pkg/b.py", 2, False),
        ("pkg/untracked.py", 1, True),
    ]
    assert doc["files_checked"] == 3

    code, _, err = run(capsys, "check", "--root", str(repo), "--diff-base", "no-such-ref")
    assert code == 2 and "git merge-base" in err


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_diff_base_from_a_subfolder_root(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "pkg", ".github")
    git(repo, "commit", "-q", "-m", "base")
    (repo / "pkg" / "b.py").write_text("z = 2\nw = LEGACY\nq = LEGACY\n")
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
    _code, doc = run_json(capsys, "check", "--root", str(repo))
    assert doc["files_checked"] == 34
    assert "] 34/34 files" in terminal.getvalue()
    assert terminal.getvalue().startswith("\r[")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    run_json(capsys, "check", "--root", str(repo), "--no-progress")
    assert terminal.getvalue() == ""


def test_engine_options_are_passed_through(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def spy(files: Iterable[tuple[str, bytes]], config: Config, **kwargs: Any) -> list[FileResult]:
        seen.update(kwargs)
        return fake_analyse_files(files, config)

    monkeypatch.setattr(sys.modules["bot.engine.pool"], "analyse_files", spy)
    run(capsys, "check", "--root", str(repo), "--jobs", "3", "--no-prefilter")
    assert seen["workers"] == 3 and seen["prefilter"] is False
    run(capsys, "check", "--root", str(repo), "--jobs", "0")
    assert seen["workers"] == 0 and seen["prefilter"] is True


# -- end to end: the real engine on the example repository ----------------------------------


@pytest.fixture
def real_engine() -> Iterator[None]:
    pytest.importorskip("bot.engine.pool", reason="the engine's pool has not landed yet")
    yield


def test_example_repository_end_to_end(
    real_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc = run_json(capsys, "check", "--root", str(EXAMPLE), "--jobs", "1")
    assert code == 1
    assert doc["errors"] == []
    in_factory = {(v["rule"], v["line"]) for v in doc["violations"] if v["path"] == FACTORY}
    assert ("ws-legacy-import", 46) in in_factory
    assert ("ws-legacy-annotation", 98) in in_factory
    assert ("ws-dual-pattern", 46) in in_factory
    by_key = {(v["rule"], v["line"]): v for v in doc["violations"]}
    assert by_key[("ws-legacy-import", 46)]["suggestion"] == (
        "from netra_backend.app.services.agent_websocket_bridge import "
        "create_agent_websocket_bridge"
    )
    assert by_key[("ws-legacy-annotation", 98)]["suggestion"] == (
        "        self._websocket_manager: Optional[AgentWebSocketBridge] = None"
    )
    assert all(v["new"] for v in doc["violations"])
    # The compliant modules and the canonical bridge itself are clean.
    flagged = {v["path"] for v in doc["violations"]}
    assert flagged == {FACTORY}, flagged


def test_example_checked_from_the_repository_root(
    real_engine: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
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
    real_engine: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
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

"""``ssot-bot check`` fails closed as the App does (docs/behaviour.md §13): a file it could not
look into that names a rule's symbol is in ``errors`` and the exit code is 1; a ``--diff``
that is not a unified diff is a usage error (exit 2); walking a folder honours ``.gitignore``
and never enters a virtual environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

CONFIG = (
    "version: 1\nfile_time_budget: 1\nrules:\n"
    "  - id: no-os-system\n    kind: banned-call\n    symbols: [os.system]\n"
    "    message: use subprocess.run\n"
)
SLOW = "x = " + " + ".join(["a"] * 20_000) + "\n"


def _check(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> tuple[int, dict]:
    code = main(["check", "--root", str(root), "--config", str(root / "ssot.yml"),
                 "--format", "json", "--jobs", "1", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "ssot.yml").write_text(CONFIG)
    return tmp_path


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("slow.py", ("# os.system\n" + SLOW).encode(), "time budget"),
    ("broken.py", b"import os\ndef (:\n    os.system('x')\n", "does not parse"),
    ("latin.py", b"import os\nos.system('\xe9')\n", "not UTF-8 text"),
])
def test_a_file_naming_a_symbol_that_cannot_be_analysed_exits_1(
        root: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes,
        reason: str) -> None:
    (root / name).write_bytes(content)
    code, doc = _check(capsys, root)
    assert code == 1
    assert [e["path"] for e in doc["errors"]] == [name]
    assert reason in doc["errors"][0]["message"]


@pytest.mark.parametrize("content", [SLOW.encode(), b"def (:\n", b"x = '\xe9'\n"])
def test_without_a_symbol_word_it_is_an_error_entry_and_exit_0(
        root: Path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    (root / "f.py").write_bytes(content)
    code, doc = _check(capsys, root, "--no-prefilter")  # every file parsed: errors reported
    assert code == 0
    assert [e["path"] for e in doc["errors"]] == ["f.py"]


def test_fail_on_never_still_exits_0(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (root / "ssot.yml").write_text(CONFIG.replace("version: 1\n", "version: 1\nfail_on: never\n"))
    (root / "broken.py").write_bytes(b"import os\ndef (:\n    os.system('x')\n")
    assert _check(capsys, root)[0] == 0


@pytest.mark.parametrize("garbage", ["hello world\n", "+x\n-y\n", "@@ -1 +1 @@\n+x\n"])
def test_a_diff_that_is_not_a_unified_diff_is_a_usage_error(
        root: Path, capsys: pytest.CaptureFixture[str], garbage: str) -> None:
    (root / "a.py").write_text("import os\nos.system('x')\n")
    (root / "bad.diff").write_text(garbage)
    code = main(["check", "--root", str(root), "--config", str(root / "ssot.yml"),
                 "--diff", str(root / "bad.diff")])
    assert code == 2
    assert "not a unified diff" in capsys.readouterr().err


def test_an_empty_diff_is_a_diff_of_nothing(root: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    (root / "a.py").write_text("import os\nos.system('x')\n")
    (root / "empty.diff").write_text("")
    code, doc = _check(capsys, root, "--diff", str(root / "empty.diff"))
    assert (code, doc["files_checked"]) == (0, 0)


def test_walking_honours_gitignore_and_skips_virtual_environments(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = "import os\nos.system('x')\n"
    (root / ".gitignore").write_text("venv/\n/build/\n*.gen.py\n!keep.gen.py\n")
    for rel in ("venv/lib/a.py", "build/b.py", "pkg/c.gen.py", "pkg/sub/.gitignore",
                "pkg/sub/local.py", "env2/pyvenv.cfg", "env2/lib/site.py", "pkg/keep.gen.py",
                "pkg/real.py", "pkg/build/ok.py"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(bad)
    (root / "pkg/sub/.gitignore").write_text("local.py\n")
    code, doc = _check(capsys, root)
    assert code == 1
    paths = sorted({v["path"] for v in doc["violations"]})
    # /build/ is anchored at the root: pkg/build/ is walked; a deeper .gitignore applies below it
    assert paths == ["pkg/build/ok.py", "pkg/keep.gen.py", "pkg/real.py"]
    assert doc["files_checked"] == 3


def test_a_file_over_max_file_bytes_is_not_read_and_fails_the_run_where_a_rule_applies(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = CONFIG + "  - id: no-eval\n    kind: banned-call\n    symbols: [builtins.eval]\n" \
        "    message: no eval\n    paths:\n      include: ['src/**']\n" \
        "limits:\n  max_file_bytes: 1000\n"
    (root / "ssot.yml").write_text(config)
    (root / "big.py").write_text("x = 1\n" * 400)  # 2,400 bytes: no word of a symbol, unread
    (root / "small.py").write_text("import os\nos.system('ls')\n")
    code, doc = _check(capsys, root)
    assert code == 1  # big.py may hold anything: a rule applies to it (§13)
    (error,) = doc["errors"]
    assert error["path"] == "big.py"
    assert "over the max_file_bytes limit" in error["message"]
    assert [v["path"] for v in doc["violations"]] == ["small.py"]


def test_an_oversized_file_no_rule_applies_to_is_listed_and_exits_0(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = ("version: 1\nrules:\n  - id: no-os-system\n    kind: banned-call\n"
              "    symbols: [os.system]\n    message: use subprocess.run\n"
              "    paths:\n      include: ['src/**']\nlimits:\n  max_file_bytes: 1000\n")
    (root / "ssot.yml").write_text(config)
    (root / "big.py").write_text("x = 1\n" * 400)
    code, doc = _check(capsys, root)
    assert code == 0
    assert [e["path"] for e in doc["errors"]] == ["big.py"]


def test_a_module_over_max_file_bytes_re_exports_nothing_and_still_fails_the_run(
        root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The re-export index reads a module no further than the analysis does: an oversized shim
    re-exports nothing, as in the App (bot/usecases/modules.py), and fails the run itself."""
    (root / "ssot.yml").write_text(
        "version: 1\nrules:\n  - id: no-old\n    kind: banned-import\n"
        "    symbols: [legacy.Old]\n    message: use New\nlimits:\n  max_file_bytes: 1000\n")
    (root / "shim.py").write_text("from legacy import Old as New\n" + "# pad\n" * 300)
    (root / "use.py").write_text("from shim import New\n")
    code, doc = _check(capsys, root)
    assert code == 1
    assert [(e["path"], "over the max_file_bytes limit" in e["message"])
            for e in doc["errors"]] == [("shim.py", True)]
    assert doc["violations"] == []  # shim.New was never read as a re-export of legacy.Old


def test_a_file_is_read_no_further_than_the_limit(tmp_path: Path) -> None:
    from bot.workspace.files import read_at_most

    big = tmp_path / "big.py"
    big.write_bytes(b"x" * 100_000)
    data, size = read_at_most(big, 1000)
    assert (len(data), size) == (1001, 100_000)

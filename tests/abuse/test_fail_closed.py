"""Fail closed (docs/behaviour.md §13), through the real service and the GitHub emulator: a file
the bot could not look into fails the check when it may hold a violation — its text names a
rule's symbol, or a limit skipped it unread while a rule's ``paths`` match it — and is listed
under ``Could not be analysed`` with its reason. Without such a word it stays a warning."""

from __future__ import annotations

from typing import Any

from tests.integration.harness import REPO, Harness, running

CONFIG = (
    "version: 1\nfile_time_budget: 1\nlimits: {max_file_bytes: 100000}\nrules:\n"
    "  - id: no-os-system\n    kind: banned-call\n    symbols: [os.system]\n"
    "    message: use subprocess.run\n    paths: {include: ['src/**']}\n"
)
SLOW = "x = " + " + ".join(["a"] * 20_000) + "\n"  # minutes of libcst: past the 1 s budget
BIG = "x = 1\n" * 20_000  # over max_file_bytes


def _notes(run: Any) -> dict[str, str]:
    return {a["path"]: a["annotation_level"] for a in run.output["annotations"]}


async def _pr(h: Harness, files: dict[str, str | bytes]) -> Any:
    await h.open_pr(files)
    (run,) = h.emu.check_runs(REPO)
    assert run.status == "completed"
    return run


async def test_each_unanalysable_file_naming_a_symbol_fails_the_check_with_its_reason() -> None:
    async with running({".github/ssot.yml": CONFIG}, workers=1) as h:
        run = await _pr(h, {
            "src/slow.py": "# os.system\n" + SLOW,  # past file_time_budget
            "src/broken.py": "import os\ndef (:\n    os.system('x')\n",  # does not parse
            "src/latin.py": b"import os\nos.system('\xe9')\n",  # not UTF-8
            "src/big.py": "import os\n" + BIG,  # over max_file_bytes, a rule's paths match it
            "other/big.py": BIG,  # over max_file_bytes, no rule's paths match it
            "src/plain.py": "def (:\n",  # names no symbol: the pre-filter settles it unparsed
        })
    assert run.conclusion == "failure"
    assert run.output["title"] == "4 files could not be analysed"
    summary = run.output["summary"]
    rows = summary[summary.index("### Could not be analysed"):].split("\n\n")[2]
    assert "- `src/slow.py`: analysis exceeded the 1 s time budget" in rows
    assert "- `src/broken.py`: does not parse" in rows
    assert "- `src/latin.py`: not UTF-8 text" in rows
    assert "- `src/big.py`: file not checked: it is" in rows
    assert "other/big.py" not in rows and "src/plain.py" not in rows
    notes = _notes(run)
    assert {p: notes[p] for p in ("src/slow.py", "src/broken.py", "src/latin.py",
                                  "src/big.py")} == dict.fromkeys(
        ("src/slow.py", "src/broken.py", "src/latin.py", "src/big.py"), "failure")
    # no symbol word, or no rule for its path: a warning, as before
    assert notes["other/big.py"] == "warning" and "src/plain.py" not in notes
    assert "Files skipped: 1 · Could not be analysed: 4" in summary


async def test_unanalysable_files_without_a_symbol_word_leave_the_check_green() -> None:
    async with running({".github/ssot.yml": CONFIG}, workers=1) as h:
        run = await _pr(h, {"src/latin.py": b"x = '\xe9'\n", "other/big.py": BIG,
                            "src/slow.py": SLOW})  # names no symbol: not even parsed
    assert run.conclusion == "success"
    assert _notes(run) == dict.fromkeys(("src/latin.py", "other/big.py"), "warning")
    assert run.output["title"] == "No new SSOT violations"
    assert "Could not be analysed" not in run.output["summary"]

"""Layering: the import-linter contracts of pyproject.toml hold, and they do bite.

CI runs ``lint-imports`` too (``.ci/run``); this keeps the contracts honest in the test suite
(import-linter is in the ``test`` extra: these run under the README's test command).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"



def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_the_contracts_are_kept() -> None:
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 4 kept, 0 broken." in done.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        ("bot/config/_probe.py", "from bot.engine import model\n", "-> config"),
        ("bot/engine/_probe.py", "import bot.usecases.analysis\n", "engine, config and tracking"),
        ("bot/report/_probe.py", "def f():\n    import ssot_emulator\n", "except the demo"),
        # a use case or handler that reaches for the service (the container) again
        ("bot/usecases/_probe.py", "def f():\n    import bot.service.context\n",
         "bot.usecases._probe -> bot.service.context"),
        ("bot/handlers/_probe.py", "import bot.cli\n", "bot.handlers._probe -> bot.cli"),
        ("bot/state/_probe.py", "import bot.usecases.inventory\n",
         "bot.state._probe -> bot.usecases.inventory"),
        # a circle through a module no layer names (bot.commands imports bot.report)
        ("bot/report/_probe.py", "def f():\n    import bot.commands\n", "no import circles"),
    ],
)
def test_an_upward_import_breaks_a_contract(
    tmp_path: Path, module: str, source: str, contract: str
) -> None:
    for name in ("bot", "ssot_emulator"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns(
            "__pycache__", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(source, encoding="utf-8")
    done = _lint(tmp_path)
    assert done.returncode == 1, done.stdout
    broken = [line for line in done.stdout.splitlines() if "BROKEN" in line]
    assert len(broken) >= 1
    assert contract in done.stdout


def test_importing_bot_does_not_import_the_emulator() -> None:
    code = ("import sys, bot, bot.cli, bot.service.app, bot.usecases.analysis; "
            "loaded = [m for m in sys.modules if m.startswith('ssot_emulator')]; "
            "assert not loaded, loaded")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr

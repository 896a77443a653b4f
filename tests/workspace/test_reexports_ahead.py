"""The re-export index of a local tree with the modules parsed ahead in the command's worker
processes (bot/workspace/reexports.py, ``Ahead``): the same index as parsed in this process,
also when the workers give nothing back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.engine.pool import EnginePool
from bot.workspace.reexports import with_reexports
from tests.engine.conftest import config, rule


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """155 modules (several tasks), re-exports through chains, star imports and __all__."""
    files = {
        "pkg/__init__.py": "from pkg.core import *\nfrom pkg.mid import Legacy as L\n",
        "pkg/core/__init__.py": "from .impl import Legacy\n__all__ = ['Legacy', 'other']\n",
        "pkg/core/impl.py": "from old import Legacy\nother = 1\n",
        "pkg/mid.py": "from pkg import core\nfrom pkg.core import Legacy\n",
        "app/uses.py": "from pkg import Legacy\nfrom pkg import L\n",
    }
    for n in range(75):  # a chain of 75 re-exports, and modules that bind nothing
        files[f"pkg/m{n:02}.py"] = f"from pkg.m{n - 1:02} import Legacy\n" if n else (
            "from old import Legacy\n")
        files[f"pkg/plain{n:02}.py"] = "x = 1\n" * (n % 5 + 1)
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


CFG = config(rule("banned-import", symbols=("old.Legacy",)))


def test_the_index_parsed_ahead_in_the_workers_is_the_one_parsed_here(tree: Path) -> None:
    here = with_reexports(tree, CFG)
    assert "pkg.Legacy" in here.reexports and "pkg.m74.Legacy" in here.reexports
    pool = EnginePool(2, memory_mb=None, queued=2)
    try:
        assert with_reexports(tree, CFG, pool=pool) == here
        # the pool is left as the analysis needs it: no call waiting, its workers alive
        assert pool.fair.waiting(None) == 0
        assert pool.submit(len, "abc", timeout=30).result(timeout=30) == 3
    finally:
        pool.close()


def test_tasks_past_their_budget_leave_the_parsing_to_this_process(tree: Path) -> None:
    here = with_reexports(tree, CFG)
    pool = EnginePool(1, memory_mb=None)
    try:
        hasty = replace(CFG, file_time_budget=1e-6)  # every task stopped at once
        assert with_reexports(tree, hasty, pool=pool).reexports == here.reexports
    finally:
        pool.close()


def test_the_tree_is_walked_and_read_once_and_the_analysis_sees_what_the_index_read(
        tree: Path) -> None:
    from bot.workspace.command import analyse_inputs
    from bot.workspace.files import collect

    inputs = collect(tree, [str(tree)], CFG, None)
    assert inputs.listing is not None  # the root was walked: the index reads this listing
    assert collect(tree, [str(tree / "pkg")], CFG, None).listing is None
    indexed = with_reexports(tree, CFG, inputs=inputs)
    assert set(inputs.contents) == {rel for rel, _ in inputs.files}
    # changed on disk after the index read it: the analysis checks the same snapshot
    (tree / "app/uses.py").write_text("x = 1\n")
    results = {r.path: r for r in analyse_inputs(inputs, indexed, jobs=0)}
    assert [v.line for v in results["app/uses.py"].violations] == [1, 2]
    assert inputs.contents == {}  # handed over, not held

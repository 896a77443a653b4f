"""analyse_files: order, per-file time budget in killable workers, on_result, threads."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from bot.config.model import Config
from bot.engine.model import FileResult
from bot.engine.pool import analyse_files, budget_message
from bot.engine.run import analyse_source

from .conftest import SEED_PATH, WS_IMPORT, seed_config

HOSTILE = (WS_IMPORT + "x: WebSocketManager = " + " + ".join(["a"] * 20000) + "\n").encode()


def files() -> list[tuple[str, bytes]]:
    good = (WS_IMPORT + "def f(m: WebSocketManager) -> None: ...\n").encode()
    return [
        ("netra_backend/app/agents/a.py", good),
        ("netra_backend/app/agents/hostile.py", HOSTILE),
        ("netra_backend/app/agents/plain.py", b"import os\n"),
        ("README.md", b"not python"),
        ("netra_backend/app/agents/bad.py", b"\xff\xfe"),
        ("netra_backend/app/agents/broken.py", WS_IMPORT.encode() + b"def (:\n"),
        ("netra_backend/app/agents/b.py", good),
    ]


def budget_config(seconds: float) -> Config:
    base = seed_config()
    return Config(rules=base.rules, file_time_budget=seconds)


def test_budget_kills_the_stuck_file_and_the_run_goes_on() -> None:
    cfg = budget_config(1.0)
    seen: list[FileResult] = []
    start = time.monotonic()
    results = analyse_files(files(), cfg, workers=2, on_result=seen.append)
    elapsed = time.monotonic() - start
    assert [r.path for r in results] == [p for p, _ in files()]
    assert elapsed < 20  # libcst alone needs minutes on the hostile file
    a, hostile, plain, readme, bad, broken, b = results
    assert hostile.error is not None and hostile.error.message == budget_message(1.0)
    assert hostile.error.message == "analysis exceeded the 1 s time budget"
    assert [v.line for v in a.violations] == [1, 2] and a.error is None
    assert a == b.__class__(a.path, a.violations)  # FileResult equality ignores ``parsed``
    assert [v.line for v in b.violations] == [1, 2]
    assert plain == FileResult(plain.path) and not plain.parsed  # prefiltered in the parent
    assert readme == FileResult("README.md")
    assert bad.error is not None and "UTF-8" in bad.error.message
    assert broken.error is not None and "parse" in broken.error.message
    # on_result: once per file
    assert sorted(r.path for r in seen) == sorted(p for p, _ in files())


def test_same_results_as_in_process() -> None:
    cfg = seed_config()
    fs = [f for f in files() if "hostile" not in f[0]]
    expected = [analyse_source(p, s, cfg) for p, s in fs]
    assert analyse_files(fs, cfg, workers=2) == expected
    assert analyse_files(fs, cfg, workers=0) == expected
    assert analyse_files(fs, cfg, workers=2, prefilter=False) == [
        analyse_source(p, s, cfg, prefilter=False) for p, s in fs
    ]


def test_callable_from_a_non_main_thread() -> None:
    out: list[list[FileResult]] = []
    t = threading.Thread(
        target=lambda: out.append(analyse_files(files(), budget_config(1.0), workers=1))
    )
    t.start()
    t.join(60)
    assert not t.is_alive()
    (results,) = out
    assert results[1].error is not None and "time budget" in results[1].error.message
    assert len(results[6].violations) == 2  # the worker was replaced after the kill


def test_nothing_to_parse_starts_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.engine.pool as pool

    def boom(*a: object, **kw: object) -> None:
        raise AssertionError("a worker was started")

    monkeypatch.setattr(pool.EnginePool, "_get", boom)
    results = analyse_files([("a.py", b"x = 1\n"), ("b.md", b"")], seed_config(), workers=4)
    assert results == [FileResult("a.py"), FileResult("b.md")]


def test_in_process_budget_is_checked() -> None:
    # the annotation keeps a rule that reads more than imports, so libcst parses the whole
    # file, long expression included (an import-only rule set parses only the import)
    slow = (WS_IMPORT + "def f(m: WebSocketManager) -> None: ...\n"
            + "x = " + " + ".join(["a"] * 2500) + "\n").encode()
    cfg = budget_config(0.05)
    (r,) = analyse_files([(SEED_PATH, slow)], cfg, workers=0)
    assert r.error is not None and r.error.message == budget_message(0.05)


def test_read_only_mappings_reach_the_workers() -> None:
    from types import MappingProxyType

    base = seed_config()
    rules = tuple(replace(r, canonical=MappingProxyType(dict(r.canonical))) for r in base.rules)
    cfg = Config(rules=rules, aliases=MappingProxyType({"a.B": "c.D"}),
                 reexports=MappingProxyType({"a.C": ("c.D",)}))
    good = (WS_IMPORT + "def f(m: WebSocketManager) -> None: ...\n").encode()
    (r,) = analyse_files([(SEED_PATH, good)], cfg, workers=1)
    assert [v.line for v in r.violations] == [1, 2]


def test_files_queued_behind_a_stuck_one_get_their_own_budget() -> None:
    """``ssot-bot check``'s pool hands a worker its next file before it is free: the files
    waiting in the channel while one worker is stuck are not charged its time."""
    good = (WS_IMPORT + "def f(m: WebSocketManager) -> None: ...\n").encode()
    fs = [("netra_backend/app/agents/hostile.py", HOSTILE),
          *((f"netra_backend/app/agents/g{n}.py", good) for n in range(3))]
    hostile, *rest = analyse_files(fs, budget_config(1.0), workers=1)
    assert hostile.error is not None and hostile.error.message == budget_message(1.0)
    assert hostile.error.blocking  # it names the symbol: the run fails closed (§13)
    assert [[v.line for v in r.violations] for r in rest] == [[1, 2]] * 3
    assert all(r.error is None for r in rest)

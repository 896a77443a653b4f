"""Hostile file texts against the engine's cheap stages (docs/behaviour.md §8): the pre-filter's
word search and the cut of bodies libcst is given stay linear in the text, so a 1 MiB file
(the size limit) costs the parent process milliseconds, not seconds."""

from __future__ import annotations

import ast
import time
from collections.abc import Callable

from bot.engine.reexports import star_sources
from bot.engine.run import has_word, plan
from bot.engine.trim import trim
from tests.engine.conftest import config, rule
from tests.timing import TIMED

MIB = 1024 * 1024


def _seconds(fn: Callable[..., object], *args: object) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


@TIMED
def test_a_word_inside_longer_words_a_hundred_thousand_times_is_searched_in_c(timed: bool) -> None:
    text = "xLegacyx " * (MIB // 9)
    assert not has_word(text, "Legacy") and has_word(text + " Legacy", "Legacy")
    assert _seconds(has_word, text, "Legacy") < 0.25 or not timed  # 0.4 s before, by hand in Python


@TIMED
def test_the_pre_filter_of_a_1_mib_file_full_of_near_misses_is_bounded(timed: bool) -> None:
    cfg = config(rule("banned-call", symbols=("legacy.core.Legacy",)))
    source = (("from .x import y\n" + "legacyLegacy_ = xLegacyx.Legacy_\n" * 20) * 1500).encode()
    assert len(source) <= MIB
    assert _seconds(plan, "pkg/m.py", source, cfg) < 1.0 or not timed


@TIMED
def test_star_import_scan_and_body_cut_of_long_whitespace_runs_are_bounded(timed: bool) -> None:
    text = "from " + "\t " * 200_000 + "x\nimport *\n"
    assert _seconds(star_sources, "a/b/m.py", text) < 0.25 or not timed
    body = "def f():\n" + "    x = 1\n" * 100_000
    tree = ast.parse(body)
    assert _seconds(trim, body, tree, []) < 1.0 or not timed

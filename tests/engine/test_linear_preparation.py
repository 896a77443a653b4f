"""Preparing an analysis is linear in the names a repository re-exports (docs/behaviour.md §13):
the re-export index, alias expansion and the pre-filter's word tests do look-ups, never
rescans. Asserted as ratios of CPU time between a tenfold input (linear: ~10x; the quadratic
code was ~100x) and generous absolute bounds, never tight times."""

from __future__ import annotations

import re
import sysconfig
import time
from pathlib import Path

import pytest

from bot.engine import reexports
from bot.engine.names import AliasTable
from bot.engine.reexports import binding_words, build_index, may_reexport
from bot.engine.run import _compiled, analyse_source, plan
from tests.engine.conftest import config, rule

CFG = config(rule("banned-import", symbols=("old.Legacy",)))


def _bomb(n: int) -> str:
    return "".join(f"import old.Legacy as A{i}\n" for i in range(n))


def _backwards_chain(n: int) -> str:
    lines = [f"A{i} = A{i - 1}\n" for i in range(n - 1, 0, -1)]
    return "".join(lines) + "from old import Legacy as A0\n"


def _prepare(text: str) -> float:
    """CPU seconds to build the index over ``text`` and prepare the engine's pre-filter."""
    started = time.process_time()
    index = build_index([("pkg/bomb.py", text), ("pkg/use.py", "from pkg.bomb import A5\n")],
                        CFG)
    prepared = index.as_config(CFG)
    _compiled(prepared)
    plan("pkg/other.py", b"x = foo.bar(baz)\n" * 6000, prepared)
    assert len(index.entries) >= 3000
    return time.process_time() - started


def test_alias_bomb_preparation_is_linear_in_the_aliases() -> None:
    small, large = _prepare(_bomb(3_000)), _prepare(_bomb(30_000))
    assert large < 30 * max(small, 0.01), (small, large)
    assert large < 120, large  # "prepared in seconds": 2-4 s on a loaded 2-core machine


def test_aliases_inside_the_symbols_own_package_are_linear() -> None:
    # each alias a key under the package holding the symbol: 0.7 -> 6.1 s CPU for 3,000 ->
    # 10,000 aliases before (a rescan of every key per key), ~55 s for 30,000
    cfg = config(rule("banned-import", symbols=("old.core.Legacy",)))

    def prepare(n: int) -> float:
        text = "".join(f"from .core import Legacy as A{i}\n" for i in range(n))
        started = time.process_time()
        prepared = build_index([("old/__init__.py", text)], cfg).as_config(cfg)
        _compiled(prepared)
        assert len(prepared.reexports) == n
        return time.process_time() - started

    small, large = prepare(3_000), prepare(30_000)
    assert large < 30 * max(small, 0.01), (small, large)


def test_assignment_chain_written_backwards_is_linear() -> None:
    small, large = _prepare(_backwards_chain(3_000)), _prepare(_backwards_chain(30_000))
    assert large < 30 * max(small, 0.01), (small, large)


def test_alias_bomb_keys_reach_the_symbol_and_the_real_import_is_found() -> None:
    text = _bomb(30_000)
    prepared = build_index([("pkg/bomb.py", text)], CFG).as_config(CFG)
    named, _ = AliasTable({}, prepared.reexports).keys_reaching_split("old.Legacy")
    assert len(named) == 30_000
    found = analyse_source("pkg/use.py", b"from pkg.bomb import A29999\n", prepared)
    assert [v.line for v in found.violations] == [1]


def test_a_chain_of_100_renaming_shims_is_followed() -> None:
    shims = [("pkg/shim0.py", "from old import Legacy as Name0\n")]
    shims += [(f"pkg/shim{i}.py", f"from pkg.shim{i - 1} import Name{i - 1} as Name{i}\n")
              for i in range(1, 100)]
    prepared = build_index(shims, CFG).as_config(CFG)
    found = analyse_source("app.py", b"from pkg.shim99 import Name99\n", prepared)
    assert [v.line for v in found.violations] == [1]
    # and a name that grows inside itself ends (it would loop forever)
    grow = build_index([("pkg/__init__.py", "from old import Legacy as pkg\n"),
                        ("pkg/g.py", "from pkg import pkg as g\ng = g.g\n")], CFG)
    assert grow.entries


def test_binding_words_holds_every_word_may_reexport_finds() -> None:
    texts = [
        "from a import (\n    B,\n    C as D,\n)\nE = x.y.F  # c\nimport g.H as I\n",
        "x = \\\n  Word\nfrom m import \\\n    Other\nZ = W; Y = V\n",
        "café = é.Wörd\nimport a.b.éLegacy\n",
    ]
    lib = Path(sysconfig.get_paths()["stdlib"])
    texts += [p.read_text("utf-8", "replace") for p in sorted(lib.glob("*.py"))[:60]]
    for text in texts:
        candidates = binding_words(text)
        for word in set(re.findall(r"\w+", text)):
            if may_reexport(text, re.compile(rf"\b{re.escape(word)}\b", re.ASCII)):
                # may_reexport sees ASCII words; binding_words holds them (and more)
                assert word in candidates or not word.isascii(), word


def test_few_words_scan_the_texts_and_many_build_the_word_index_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # up to _DIRECT_WORDS words the modules that may bind a word are found by a substring
    # scan, past it by the word -> modules index: the same modules read, the same entries
    lib = Path(sysconfig.get_paths()["stdlib"])
    texts = [(p.relative_to(lib).as_posix(), p.read_text("utf-8", "replace"))
             for p in sorted(lib.glob("*.py"))[:150]]
    texts += [("pkg/__init__.py", "from .shim import *\nfrom old import Legacy as L0\n"),
              ("pkg/shim.py", "".join(f"from old import Legacy as N{i}\n" for i in range(40)))]
    cfg = config(rule("banned-import", symbols=("old.Legacy", "os.path.join", "typing.Any",
                                                "collections.OrderedDict")))
    results = []
    for limit in (0, 10_000, reexports._DIRECT_WORDS):
        monkeypatch.setattr(reexports, "_DIRECT_WORDS", limit)
        index = build_index(texts, cfg)
        results.append((list(index.entries.items()), index.words, index.modules_read))
    assert results[0] == results[1] == results[2]
    assert len(results[0][0]) > 40

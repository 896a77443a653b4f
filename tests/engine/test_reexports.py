"""The re-export index (docs/behaviour.md §10): what a module binds, which modules are read,
chains, cycles, stars and ``__all__``, and the pre-filter that follows renamed re-exports."""

from __future__ import annotations

import re

import pytest

from bot.config.model import Config
from bot.engine.names import AliasTable
from bot.engine.reexports import (
    build_index,
    may_reexport,
    module_info,
    module_paths,
    star_sources,
)
from bot.engine.run import analyse_source, plan

from .conftest import config, rule

LEGACY = "legacy.core.Legacy"


def cfg(*symbols: str) -> Config:
    return config(rule("banned-call", symbols=symbols or (LEGACY,)))


def index(tree: dict[str, str], *symbols: str) -> dict[str, tuple[str, ...]]:
    return build_index(tree.items(), cfg(*symbols)).entries


def test_module_info_reads_every_binding_form() -> None:
    code = (
        "from a.b import C, D as E\n"
        "import x.y as z\n"
        "import plain.mod\n"
        "from . import sibling\n"
        "from .. import up\n"
        "from star.src import *\n"
        "try:\n    from new import T\nexcept ImportError:\n    from old import T\n"
        "if TYPE_CHECKING:\n    from typed import U\n"
        "V = z.W\nX = V\nY: type = E\n"
        "class K: ...\ndef f(): from inner import Z\n"
        "__all__ = ['C']\n__all__ += ['E']\n__all__.append('X')\n"
    )
    info = module_info("pkg/sub/mod.py", code)
    assert info is not None and info.module == "pkg.sub.mod"
    b = info.bindings
    assert b["C"] == ("a.b.C",) and b["E"] == ("a.b.D",) and b["z"] == ("x.y",)
    assert "plain" not in b  # ``import a.b`` binds the top package: no re-export
    assert b["sibling"] == ("pkg.sub.sibling",) and b["up"] == ("pkg.up",)
    assert b["T"] == ("new.T", "old.T") and b["U"] == ("typed.U",)
    assert b["V"] == ("x.y.W",) and b["X"] == ("x.y.W",) and b["Y"] == ("a.b.D",)
    assert "Z" not in b and info.defined == frozenset({"K", "f"})
    assert info.stars == ("star.src",)
    assert info.all == ("C", "E", "X")


def test_a_definition_is_no_reexport_and_a_computed_all_exports_public_names() -> None:
    info = module_info("m.py", "from a import K\nclass K: ...\n__all__ = names()\n")
    assert info is not None and "K" not in info.bindings
    assert info.all is None and info.exports("x") and not info.exports("_x")


def test_chains_stars_and_cycles() -> None:
    tree = {
        "legacy/core.py": "class Legacy: ...\n",
        "a.py": "from legacy.core import Legacy as A\n",
        "b.py": "from a import A as B\nC = B\n",
        "s.py": "from b import *\n",
        "hidden.py": "__all__ = ['x']\nfrom b import B\n",
        "h2.py": "from hidden import *\n",
        "loop1.py": "from loop2 import Legacy\n",
        "loop2.py": "from loop1 import Legacy\n",
    }
    entries = index(tree)
    assert entries["a.A"] == (LEGACY,)
    assert entries["b.B"] == ("a.A",) and entries["b.C"] == ("a.A",)
    assert entries["s.B"] == ("b.B",) and entries["s.C"] == ("b.C",)
    assert "h2.B" not in entries  # hidden's __all__ leaves B out
    assert "loop1.Legacy" not in entries and "loop2.Legacy" not in entries
    table = AliasTable({}, entries)
    assert table.expand("s.C.method")[-1] == LEGACY + ".method"
    assert set(table.keys_reaching(LEGACY)) >= {"a.A", "b.B", "b.C", "s.B", "s.C"}


def test_what_the_listed_name_points_to_is_not_listed() -> None:
    tree = {"legacy/core.py": "from new.place import Manager as Legacy\n"}
    assert index(tree) == {}


def test_only_modules_that_can_matter_are_read() -> None:
    tree = {f"other/m{n}.py": "import os\nx = os.getcwd()\n" for n in range(50)}
    tree["legacy/core.py"] = "class Legacy: ...\n"
    tree["shim.py"] = "from legacy.core import Legacy as Renamed\n"
    tree["user.py"] = "from shim import Renamed\n"
    built = build_index(tree.items(), cfg())
    assert built.modules_read == 2  # shim (names Legacy), user (names Renamed): not the 50
    assert "Renamed" in built.words
    assert built.entries == {"shim.Renamed": (LEGACY,), "user.Renamed": ("shim.Renamed",)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from a import Legacy\n", True),
        ("from a import (\n    x,\n    Legacy,\n)\n", True),
        ("from a import x, \\\n    Legacy\n", True),
        ("X = core.Legacy\n", True),
        ("X = core.Legacy  # old name\n", True),
        ("x = core.Legacy(1)\n", False),
        ("from a import *\n", False),  # star imports: star_sources
        ("__all__ = ['x']\nclass Legacy: ...\n", False),  # read when a star import needs it
        ("class Legacy: ...\nLegacy()\n", False),
        ("print(Legacy)\n# Legacy\n", False),
        ("import os\n", False),
    ],
)
def test_may_reexport(text: str, expected: bool) -> None:
    assert may_reexport(text, re.compile(r"\bLegacy\b")) is expected


def test_star_sources() -> None:
    text = "from a.b import *\nfrom . import *\nfrom ..up import \\\n  *\nfrom c import d\n"
    assert star_sources("pkg/sub/m.py", text) == ["a.b", "pkg.sub", "pkg.up"]


def test_module_paths_prefers_the_shortest_path() -> None:
    paths = ["examples/x-y/pkg/m.py", "pkg/m.py", "src/pkg/__init__.py", "README.md"]
    assert module_paths(paths) == {"pkg.m": "pkg/m.py", "pkg": "src/pkg/__init__.py"}


def test_prefilter_lets_a_renamed_reexport_through() -> None:
    tree = {
        "legacy/core.py": "class Legacy: ...\n",
        "shim.py": "from legacy.core import Legacy as Renamed\n",
    }
    base = cfg()
    code = b"from shim import Renamed\nRenamed()\n"
    assert not isinstance(plan("app/x.py", code, base), tuple)  # filtered out without the index
    with_index = build_index(tree.items(), base).as_config(base)
    assert isinstance(plan("app/x.py", code, with_index), tuple)
    assert [v.line for v in analyse_source("app/x.py", code, with_index).violations] == [2]


def test_aliases_keep_working_alongside_the_index() -> None:
    base = config(rule("banned-call", symbols=(LEGACY,)), aliases={"ext.Thing": LEGACY})
    built = build_index({"shim.py": "from ext import Thing as T\n"}.items(), base)
    assert built.entries == {"shim.T": ("ext.Thing",)}
    code = b"from shim import T\nfrom ext import Thing\nT()\nThing()\n"
    result = analyse_source("app/x.py", code, built.as_config(base))
    assert [v.line for v in result.violations] == [3, 4]


def test_a_module_valued_reexport_is_followed_but_does_not_widen_the_reads() -> None:
    """``from legacy import core as old_core`` binds a module that holds the symbol: found in a
    module read anyway, followed by the engine, but its last word (``old_core``) neither reads
    more modules nor becomes a pre-filter word (a reference through it names ``Legacy``)."""
    tree = {
        "legacy/core.py": "class Legacy: ...\n",
        "shim.py": "from legacy.core import Legacy\nfrom legacy import core as old_core\n",
        "onward.py": "from shim import old_core\n",  # names no word: not read
        **{f"other/m{n}.py": "from shim import old_core as c\nc.helper()\n" for n in range(20)},
    }
    built = build_index(tree.items(), cfg())
    assert built.entries == {"shim.Legacy": (LEGACY,), "shim.old_core": ("legacy.core",)}
    assert built.words == {"Legacy"} and built.modules_read == 1
    with_index = built.as_config(cfg())
    named, modules = AliasTable({}, built.entries).keys_reaching_split(LEGACY)
    assert named == ["shim.Legacy"] and modules == ["shim.old_core"]
    code = b"from shim import old_core\nold_core.Legacy()\n"
    assert [v.line for v in analyse_source("app/x.py", code, with_index).violations] == [2]
    # the module alias alone, with no name of the symbol's after it: filtered out, no match
    assert not isinstance(plan("app/y.py", b"from shim import old_core\nold_core.f()\n",
                               with_index), tuple)
    # the one case left out (docs/behaviour.md §10): the alias passed on through a module
    # that names no symbol's word, and so is not read
    onward = b"from onward import old_core\nold_core.Legacy()\n"
    assert analyse_source("app/z.py", onward, with_index).violations == ()


def test_keys_reaching_split_follows_module_valued_chains() -> None:
    table = AliasTable({}, {
        "a.mod": ("legacy.core",),  # module-valued
        "b.mod2": ("a.mod",),  # bound to a module-valued key: module-valued too
        "c.L": ("a.mod.Legacy",),  # a name inside a module-valued key: a name
        "d.Old": (LEGACY,),
    })
    named, modules = table.keys_reaching_split(LEGACY)
    assert sorted(named) == ["c.L", "d.Old"] and sorted(modules) == ["a.mod", "b.mod2"]
    assert sorted(table.keys_reaching(LEGACY)) == ["a.mod", "b.mod2", "c.L", "d.Old"]

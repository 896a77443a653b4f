"""The re-export planning's import scan (bot.engine.imports.imported_names) walks statements
only: the same names, in the same order, as a walk over every node of the tree."""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

from bot.engine.imports import import_names, imported_names, scan_files
from bot.service.context import Bot
from bot.settings import Settings

NESTED = '''\
import os, pkg.a as a
from . import sibling
from .mod import (one,
                  two)

def f():
    import pkg.in_function
    class Inner:
        from pkg.in_class import Name

if x:
    from pkg.in_if import *
else:
    import pkg.in_else
try:
    import pkg.in_try
except ImportError:
    import pkg.in_handler
else:
    import pkg.in_try_else
finally:
    import pkg.in_finally
with open(p) as fh:
    import pkg.in_with
for i in y:
    pass
else:
    import pkg.in_for_else
match v:
    case 1:
        import pkg.in_case
lam = lambda: __import__("pkg.not_a_statement")
'''


def _every_node(path: str, text: str) -> list[str]:
    """The scan as it was: ``ast.walk`` over every node."""
    names: list[str] = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.extend(import_names(path, node))
    return names


def test_imports_at_any_depth_in_walk_order() -> None:
    names, words = imported_names("app/pkg/m.py", NESTED)
    assert names == _every_node("app/pkg/m.py", NESTED)
    assert {"os", "pkg.a", "app.pkg", "app.pkg.sibling", "app.pkg.mod.one", "app.pkg.mod.two",
            "pkg.in_function", "pkg.in_class.Name", "pkg.in_if", "pkg.in_else",
            "pkg.in_try", "pkg.in_handler", "pkg.in_try_else", "pkg.in_finally",
            "pkg.in_with", "pkg.in_for_else", "pkg.in_case"} <= set(names)
    assert not any("not_a_statement" in n for n in names)
    assert {"lam", "fh", "Inner"} <= words
    assert imported_names("m.py", "def broken(:\n    import x\n") == ([], {"def", "broken",
                                                                          "import", "x"})


def test_same_names_as_the_every_node_walk_on_the_standard_library() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    paths = sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts)[::5][:300]
    compared = 0
    for p in paths:
        try:
            text = p.read_text("utf-8")
            ast.parse(text)
        except (UnicodeDecodeError, SyntaxError, ValueError):
            continue
        rel = p.relative_to(stdlib).as_posix()
        assert imported_names(rel, text)[0] == _every_node(rel, text), rel
        compared += 1
    assert compared > 250


async def test_the_service_scans_in_its_worker_processes_and_gives_up_past_the_budget() -> None:
    items = [("app/pkg/m.py", NESTED),
             ("app/pkg/__init__.py", "from .m import f as g\n__all__ = ['g']\n")]
    bot = Bot(Settings(webhook_secrets=("s",), workers=1))
    try:
        assert await bot.workers.scan_modules(items, 60.0) == scan_files(items)
        # 1 MB that takes ast a second or more: its worker is stopped, the file is not scanned
        heavy = ("app/pkg/data.py", "DATA = [" + ",".join("1" for _ in range(500_000)) + "]\n")
        assert await bot.workers.scan_modules([heavy], 0.05) == [None]
        assert await bot.workers.scan_modules(items[1:], 60.0) == scan_files(items[1:])
    finally:
        await bot.stop()

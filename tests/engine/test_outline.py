"""The module outline the re-export index parses gives the same re-export facts as the module."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from bot.engine.names import module_of_path
from bot.engine.reexports import ModuleInfo, module_info, module_outline
from bot.engine.rules.syntax import parse_ast


def _full(path: str, text: str) -> ModuleInfo | None:
    """The facts from the whole module's tree, as before the outline."""
    tree = parse_ast(text)
    return None if tree is None or module_of_path(path) is None else module_info(path, text, tree)


CASES = {
    "plain": "from a import B\n\ndef f():\n    from c import D\n    return D\n\nE = B\n",
    "class": "class K:\n    from x import Y\n    Z = 1\n\nfrom m import N as O\n",
    "signature": "def f(a,\n      b):\n    return a\n\nfrom p import Q\n",
    "decorated": "@dec\ndef f():\n    pass\nfrom p import Q\n__all__ = ['Q']\n",
    "docstring at column 0": 'def f():\n    """doc\nfrom evil import X\n"""\n\nfrom p import Q\n',
    "bracket at column 0": "def f():\n    x = g(\n1)\n    return x\nfrom p import Q\n",
    "nested def kept": "if True:\n    def f():\n        pass\n    from p import Q\n",
    "def in a module string": 's = """\ndef x():\n    y\n"""\nfrom p import Q\n',
}


@pytest.mark.parametrize("text", CASES.values(), ids=list(CASES))
def test_outline_reads_the_same_facts(text: str) -> None:
    assert module_info("pkg/mod.py", text) == _full("pkg/mod.py", text)


def test_outline_cuts_bodies() -> None:
    outline = module_outline(CASES["plain"])
    assert outline is not None and "from c import D" not in outline
    assert module_outline(CASES["docstring at column 0"]) is None


def test_outline_agrees_with_the_whole_module_on_the_standard_library() -> None:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    paths = sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts)[::7][:250]
    compared = 0
    for p in paths:
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        rel = p.relative_to(stdlib).as_posix()
        full = _full(rel, text)
        if full is None:
            continue
        assert module_info(rel, text) == full, rel
        compared += 1
    assert compared > 200

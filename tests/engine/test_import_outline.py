"""The import outline (bot/engine/rules/outline.py) the ast gate parses for rules that read only
imports: the same imports, module-level definitions and import blocks as the whole tree, and
only for a text the whole parse accepts."""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

import pytest

from bot.engine.names import AliasTable
from bot.engine.rules.gate import collect_ast
from bot.engine.rules.outline import _code_without_import, definitions_outline, import_outline
from bot.engine.rules.syntax import parse_ast
from bot.engine.run import analyse_source
from bot.engine.trim import imports_only
from tests.engine.conftest import config, rule

PAD = "".join(f"# padding line {i}\n" for i in range(12))  # above the size worth a cut


def _facts(tree: ast.Module) -> object:
    facts, _ = collect_ast(tree, "pkg/mod.py", AliasTable({}), ("old.Legacy",), refs=False)
    return (
        [(d.name, d.node.lineno, d.node.col_offset, d.fallback) for d in facts.definitions],
        [(i.qualified, i.node.lineno, i.node.col_offset, i.from_module) for i in facts.imports],
        sorted((k, tuple(v)) for k, v in facts.bindings.names.items()),
        facts.bindings.stars,
    )


def _same_as_whole(text: str) -> bool:
    """The outline's facts and import cut are the whole tree's; False: no outline given."""
    outline = import_outline(text)
    if outline is None:
        return False
    whole = parse_ast(text)
    assert whole is not None, "an outline of a text ast.parse refuses"
    assert _facts(outline) == _facts(whole)
    assert imports_only(text, outline) == imports_only(text, whole)
    return True


def test_bodies_without_imports_are_cut_lines_kept() -> None:
    text = PAD + (
        "from old import Legacy\n"
        "class K:\n"
        '    """Doc.\n\n    >>> from old import Legacy\n    """\n'
        "    def a(self):\n        x = 1\n        return x\n"
        "    def b(self):\n        from old import Legacy as L\n        return L\n"
        "def f():\n    y = [\n        1,\n    ]\n    return y\n"
        "if True:\n    Z = 1\n"
    )
    outline = import_outline(text)
    assert outline is not None
    cls = outline.body[1]
    assert isinstance(cls, ast.ClassDef)
    # the doctest's import is in a string: the method without an import is cut, the other kept
    a, b = cls.body[1], cls.body[2]
    assert isinstance(a, ast.FunctionDef) and isinstance(a.body[0], ast.Expr)
    assert isinstance(b, ast.FunctionDef) and isinstance(b.body[0], ast.ImportFrom)
    assert b.body[0].lineno == text.splitlines().index("        from old import Legacy as L") + 1
    assert _same_as_whole(text)


UNSAFE = {
    # the gate sees what the whole parse would: nothing here may hide or invent an import
    "syntax error in a cut body": "def f():\n    x = (\n    return 1\n",
    "string open at a body's end": 'def f():\n    x = """\n    y\n"""\nimport os\n',
    "comment hides a quote": 'def f():\n    # """\n    x = """\nimport os\n"""\nz = 1  # """\n',
    "bracket open at a body's end": "def f():\n    x = [\n        1,\n]\nimport os\n",
    "backslash joins the next line": "def f():\n    y = 1\n    x = \\\n1; import os\n",
    "backslash joins the body's next line": (
        "def f():\n    x = 1 + \\\n2\n    import os\n    return x\n"),
    "backslash in a string joins the next line": (
        "def f():\n    s = 'a\\\ndef g(): pass'\n    t = 1\nimport os\n"),
    "backslash before a comment line": "def f():\n    x = 1 + \\\n# c\n2\nimport os\n",
    "one-line def": "def f(): return 1\ndef g():\n    a = 1\n    return a\n",
    "header in a string": 's = """\ndef x():\n    y = 1\n    z = 2\n"""\nimport os\n',
    "tab mixed indentation": "if 1:\n\tdef f():\n        a = 1\n        b = 2\n",
    "barry": "from __future__ import barry_as_FLUFL\ndef f():\n    a = 1 <> 2\n    b = 3\n",
    "nonlocal at module level inside": "def f():\n    a = 1\n    b = 2\nnonlocal q\n",
    # the bodies are syntax-checked in one text: one that ends inside a string must not be
    # cut, or a later one closes it (the standard library's idlelib/idle_test/mock_tk.py)
    "a string one body opens and a later one closes": (
        'class M:\n    """Doc.\n    more\nfrom os import path\n\n'
        'class T:\n    x = 1\n    """\n    a = 1\n    b = 2\n'),
}


@pytest.mark.parametrize("text", UNSAFE.values(), ids=UNSAFE.keys())
def test_an_outline_only_for_what_the_whole_parse_accepts(text: str) -> None:
    text = PAD + text
    outline = import_outline(text)
    if parse_ast(text) is None:
        assert outline is None
    elif outline is not None:
        assert _same_as_whole(text)


def test_a_body_continued_with_backslashes_is_cut() -> None:
    # sympy's tests continue long asserts with backslashes: 40% of its text was parsed whole
    body = "".join(f"    assert f({i}) == \\\n        g({i})\n" for i in range(10))
    text = PAD + "from old import Legacy\ndef test_f():\n" + body + "def h():\n    return 1\n"
    outline = import_outline(text)
    assert outline is not None
    test_f = outline.body[1]
    assert isinstance(test_f, ast.FunctionDef) and isinstance(test_f.body[0], ast.Expr)
    assert _same_as_whole(text)


def test_the_stdlib_outlines_have_the_whole_trees_facts() -> None:
    lib = Path(sysconfig.get_paths()["stdlib"])
    outlined = 0
    for path in sorted(lib.glob("*.py"))[:120]:
        outlined += _same_as_whole(path.read_text("utf-8", "replace"))
    assert outlined > 60


def test_banned_import_findings_and_errors_are_the_whole_parses() -> None:
    cfg = config(rule("banned-import", symbols=("old.Legacy",)))
    body = "".join(f"    v{i} = {i}\n" for i in range(20))
    good = PAD + "from old import Legacy\ndef f():\n" + body + "    from old import Legacy\n"
    found = analyse_source("pkg/a.py", good.encode(), cfg)
    assert [v.line for v in found.violations] == [13, 35]
    # a syntax error in a body the outline would cut: the file does not parse, as before
    bad = PAD + "from old import Legacy\ndef f():\n" + body + "    x = = 1\n"
    failed = analyse_source("pkg/b.py", bad.encode(), cfg)
    assert failed.error is not None and "does not parse" in failed.error.message
    assert failed.error.blocking


# (text, imports may stand in code) -> the body reads as code to its end with no import
CODE_READS = {
    "plain code": ("x = 1\nreturn x\n", False, True),
    "import in code": ("x = 1\nimport os\n", False, False),
    "import in code, allowed": ("x = 1\nimport os\n", True, True),
    "reimport is a word with import in it": ("reimport(x)\n", False, False),
    "import in a docstring": ('"""\n>>> from old import Legacy\n"""\nx = 1\n', False, True),
    "import in a comment": ("x = 1  # import this\n", False, True),
    "a triple quote left open": ('x = """\nabc\n', True, False),
    # a triple quote left open whose text closes a one-quote string later: still open
    "an open triple quote that reads as two strings": ('x = """abc"\ny = 1\n', True, False),
    "an empty string then code": ('x = ""\ny = 1\n', True, True),
    "a string left open at the line end": ("x = 'abc\ny = 1\n", True, False),
    "a backslash keeps the quote in": ('x = "a\\"b"\n', True, True),
    "raw and byte prefixes read the same": ("x = rb'\\''\n", True, True),
}


@pytest.mark.parametrize("case", CODE_READS.values(), ids=CODE_READS.keys())
def test_a_body_reads_as_code_to_its_end(case: tuple[str, bool, bool]) -> None:
    text, imports, expected = case
    assert _code_without_import(text, 0, len(text), imports=imports) is expected


def test_the_definitions_outline_cuts_bodies_with_imports_too() -> None:
    text = PAD + (
        "from a import B\n"
        "def f():\n    from c import D\n    return D\n"
        "class K:\n    from x import Y\n    def m(self):\n        return 1\n"
        "E = B\n"
    )
    tree = definitions_outline(text)
    assert tree is not None
    f, k = tree.body[1], tree.body[2]
    assert isinstance(f, ast.FunctionDef) and isinstance(k, ast.ClassDef)
    for node in (f, k):  # each body is ``...`` on its first statement's line
        assert len(node.body) == 1 and isinstance(node.body[0], ast.Expr)
    assert [n.lineno for n in tree.body] == [n.lineno for n in ast.parse(text).body]
    # a "header" inside a string is not a body: the tree does not confirm the cut
    assert definitions_outline(PAD + 's = """\ndef x():\n    y\n    z\n"""\nfrom p import Q\n') \
        is None

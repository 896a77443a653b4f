"""Rules that read only imports (banned-import): libcst parses the file reduced to its import
statements (bot.engine.trim.imports_only), the ast gate gathers no references, and the
violations (lines, columns, suggestions, fingerprints) are the same as from the whole file."""

from __future__ import annotations

import ast
import sysconfig
from pathlib import Path

import libcst
import pytest

from bot.engine import run as run_module
from bot.engine.names import AliasTable
from bot.engine.rules.gate import collect_ast
from bot.engine.run import analyse_source
from bot.engine.trim import imports_only

from .conftest import config, rule


def _reduced(text: str) -> tuple[str, list[int]] | None:
    return imports_only(text, ast.parse(text))


SHAPES = (
    "import os\nx = 1\nfrom a.b import (\n    C,\n    D as E,\n)\ny = [\n  1,\n]\n",
    "def f(a,\n      b):\n    '''doc\n    import fake\n    '''\n    import a.b\n    return a\n",
    "@decorator(\n    1)\nclass T:\n    x = 1\n    from a import b\n\n    def m(self):\n"
    "        if x:\n            pass\n        elif y:\n            from a import c\n"
    "        else:\n            import d\n",
    "try:\n    from a import b\nexcept ImportError:  # old\n    from c import b\n"
    "else:\n    x = 1\nfinally:\n    import e\n",
    "for i in x:\n    pass\nelse:\n\n    import a\nwhile y:\n    with z as w, \\\n"
    "            v:\n        import b; q = (1,\n  2)\n",
    "async def f():\n    async with a:\n        import b\n    async for x in y:\n"
    "        from c import d\n",
    "if a:\n    import x\nelse:\n    if b:\n        import y\n",
    "s = '''\nfrom a import b\n'''\nimport c  # ssot: ignore\n",
    "def f():\r\n    import a\r\n    return a\r\n",
)


@pytest.mark.parametrize("text", SHAPES)
def test_the_reduced_text_parses_and_keeps_every_import_line_as_it_is(text: str) -> None:
    cut = _reduced(text)
    assert cut is not None
    reduced, line_of = cut
    libcst.parse_module(reduced)
    tree = ast.parse(reduced)
    original = text.splitlines()
    kept = reduced.splitlines()
    assert line_of == sorted(line_of) and len(line_of) == len(kept)
    headers = {n for n, ln in enumerate(kept, 1) if ln.strip() == "if 1:"}
    for n, ln in enumerate(kept, 1):
        if n not in headers:
            assert ln == original[line_of[n - 1] - 1]
    # every import of the file is there, on its line
    imports = sorted((n.lineno, ast.unparse(n)) for n in ast.walk(ast.parse(text))
                     if isinstance(n, (ast.Import, ast.ImportFrom)))
    found = sorted((line_of[n.lineno - 1], ast.unparse(n)) for n in ast.walk(tree)
                   if isinstance(n, (ast.Import, ast.ImportFrom)))
    assert found == imports


@pytest.mark.parametrize(
    "text",
    [
        "if x: import a\n",  # the body on the header's line
        "try:\n    pass\nexcept E: import a\n",
        "if x:\n    pass\nelse: import a\n",
        "match x:\n    case 1:\n        import a\n",
        "import a\rimport b\n",  # a lone \r line end
    ],
)
def test_shapes_it_cannot_keep_leave_the_file_whole(text: str) -> None:
    assert _reduced(text) is None


def test_without_references_the_gate_still_sees_every_import() -> None:
    text = "import a\ndef f():\n    from b import C\n    return C(a.x)\n"
    tree = ast.parse(text)
    aliases = AliasTable({})
    full, _ = collect_ast(tree, "m.py", aliases, ("b.C",))
    bare, strings = collect_ast(tree, "m.py", aliases, ("b.C",), refs=False)
    assert [i.qualified for i in bare.imports] == [i.qualified for i in full.imports]
    assert full.refs and not bare.refs and not strings


_SYMBOLS = ("legacy.core.Legacy", "legacy.old")
_CODE = (
    "import os\n"
    "from legacy.core import Legacy  # ssot: ignore[other]\n"
    "class Big:\n"
    "    '''from legacy.core import Legacy'''\n"
    "    def m(self):\n"
    "        try:\n"
    "            from legacy.core import (\n"
    "                Legacy as L,\n"
    "            )\n"
    "        except ImportError:\n"
    "            import legacy.old.sub as s; x = 1\n"
    "        return L()\n"
    "from legacy.core import Legacy\n"
    "from legacy.core import Legacy  # ssot: ignore[banned-import]\n"
)


@pytest.mark.parametrize("use", [None, "new.place.New"])
def test_violations_are_the_same_as_from_the_whole_file(
        monkeypatch: pytest.MonkeyPatch, use: str | None) -> None:
    cfg = config(rule("banned-import", symbols=_SYMBOLS, use=use))
    reduced = analyse_source("pkg/m.py", _CODE.encode(), cfg)
    monkeypatch.setattr(run_module, "imports_only", lambda *a: None)
    whole = analyse_source("pkg/m.py", _CODE.encode(), cfg)
    assert reduced == whole
    assert [(v.line, v.column) for v in reduced.violations] == [(2, 25), (8, 17), (11, 20),
                                                                (13, 25)]
    assert all(v.fingerprint for v in reduced.violations)


def test_a_rule_that_reads_more_than_imports_gets_the_whole_file(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = run_module.imports_only

    def spy(text: str, tree: ast.Module, keep: object = None) -> tuple[str, list[int]] | None:
        calls.append(text)
        return real(text, tree, keep)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module, "imports_only", spy)
    mixed = config(rule("banned-import", symbols=_SYMBOLS),
                   rule("banned-call", id="call", symbols=_SYMBOLS))
    assert [v.rule for v in analyse_source("pkg/m.py", _CODE.encode(), mixed).violations]
    assert calls == []
    analyse_source("pkg/m.py", _CODE.encode(), config(rule("banned-import", symbols=_SYMBOLS)))
    assert len(calls) == 1


def _stdlib(limit: int) -> list[tuple[str, bytes]]:
    root = Path(sysconfig.get_paths()["stdlib"])
    out: list[tuple[str, bytes]] = []
    for p in sorted(root.glob("*.py"))[:limit]:
        out.append((p.name, p.read_bytes()))
    return out


def test_standard_library_modules_give_the_same_violations(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # much-imported names, so that most files hold violations at several depths
    symbols = ("os", "typing.Any", "collections.namedtuple", "re.compile", "sys.modules",
               "functools.wraps", "io.StringIO", "warnings.warn")
    cfg = config(rule("banned-import", symbols=symbols, use="new.Name"))
    files = _stdlib(120)
    reduced = [analyse_source(p, data, cfg) for p, data in files]
    monkeypatch.setattr(run_module, "imports_only", lambda *a: None)
    whole = [analyse_source(p, data, cfg) for p, data in files]
    assert reduced == whole
    hits = sum(len(r.violations) for r in reduced)
    assert hits > 50

"""Positions from the code of only the statements holding a node (bot.engine.rules.positions)
are the positions libcst gives (PositionProvider) and the engine gave by generating the code
of the whole file: over tricky statements and over a sample of the standard library."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from bot.engine.names import AliasTable
from bot.engine.rules.facts import Facts, Span, collect, positions
from bot.engine.rules.gate import parse
from bot.engine.rules.positions import place
from bot.engine.run import analyse_source

from .conftest import WS, WS_IMPORT, config, rule


def _facts(text: str, path: str = "app/mod.py") -> tuple[cst.Module, Facts]:
    module = cst.parse_module(text)
    return module, collect(module, path, AliasTable({}))


def _refs(facts: Facts) -> list[cst.CSTNode]:
    """Every reference node outside string annotations: chains, their inner nodes, calls."""
    out: list[cst.CSTNode] = []
    for ref in facts.refs:
        if ref.string is not None:
            continue
        node: cst.CSTNode = ref.node
        out.append(node)
        while isinstance(node, cst.Attribute):
            node = node.value
            out.append(node)
        if ref.call is not None:
            out.append(ref.call)
    return out


def _nodes(facts: Facts) -> list[cst.CSTNode]:
    """Every node a finding may need a span of."""
    out = _refs(facts)
    out.extend(r.string.string for r in facts.refs if r.string is not None)
    for imp in facts.imports:
        out.extend((imp.node, imp.stmt))
    out.extend(d.node for d in facts.definitions)
    return out


TRICKY = [
    "import os\n\n# c\n\n@dec  # x\n# between\n@ other(\n  1)\n\nclass A(os.B):\n"
    "    # lead\n    @property\n    def f(self) -> os.C:\n        return os.path.join(\n"
    "            'a',\n    'b')\n    # trailing, indented\n# trailing, not indented\nx = os.D\n",
    "import os\nif a:\n    os.a()\nelif b:\n    os.b()\nelif c:\n    pass\nelse:\n"
    "    if d:\n        os.c()\n    else:\n        os.d()\n",
    "import os\ntry:\n    os.a()\nexcept os.E as e:\n    os.b()\nexcept (os.F, os.G):\n"
    "    os.c()\nelse:\n    os.d()\nfinally:\n    os.e()\n",
    "import os\ntry:\n    os.a()\nexcept* os.E:\n    os.b()\n",
    "import os\nasync def f():\n    async for x in os.a():\n        os.b()\n    else:\n"
    "        os.c()\n    async with os.d() as y, os.e():\n        while os.f():\n"
    "            os.g()\n        else:\n            os.h()\n",
    "import os\nmatch os.a:\n    case os.B(x=1):\n        os.c()\n    case [*r] if os.d(r):\n"
    "        match r:\n          case _:\n             os.e()\n",
    "import os\nclass A:\n\tdef f(self):\n\t\treturn os.a()\n\tclass B:\n\t\t x = os.b\n",
    "import os; from os import path as p; x = os.a; y = p.b\nif x: import sys; os.c()\n",
    "import os\ns = '''\nos.not_a_ref\n'''\nt = f\"{os.a}\"\\\n    + os.b  # é\nv = 'ü' + os.c\n",
    "import os\r\nclass A:\r\n    def f(self):\r\n        return os.a()\r\n\r\nx = os.b\r\n",
    "import os\nclass A:\n    @(\n        os.dec\n    )\n    def f(self) -> 'os.T':\n"
    "        return os.a()\n",
    "import os\rclass A:\r    x = os.a\r",
    "import os\nclass A:\n    pass\n\n\n\n\n\n# end\n\n\n"
    "def f(x: os.T = os.a, *, y=(os.b)) -> None:\n"
    "    del x, os.c\n    global g\n    assert os.d, os.e\n    raise os.E from os.F\n",
    "\n\n# header\n\n\nimport os\n\n\n\nx = [\n    os.a,\n\n    # inner comment\n    os.b,\n]\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_statements(text: str) -> None:
    module, facts = _facts(text)
    nodes = _nodes(facts)
    assert nodes
    full = positions(module, module, nodes)
    fast = place(module, text, parse(text), facts, nodes, [])
    if fast is None:  # only where the text check refuses a guess, or ast counts a lone \r
        assert text.count("\r") != text.count("\r\n") or "@(" in text
        return
    assert fast == full


def test_tricky_statements_mostly_placed_without_fallback() -> None:
    placed = 0
    for text in TRICKY:
        module, facts = _facts(text)
        placed += place(module, text, parse(text), facts, _nodes(facts), []) is not None
    assert placed == len(TRICKY) - 2  # the two of the next test


def test_a_guess_the_text_refutes_falls_back() -> None:
    text = TRICKY[10]  # ast puts the decorator on the line of ``os.dec``, not of ``@``
    module, facts = _facts(text)
    assert place(module, text, parse(text), facts, _nodes(facts), []) is None
    text = TRICKY[11]  # lone \r: ast counts it as a line end, the engine does not
    module, facts = _facts(text)
    assert place(module, text, parse(text), facts, _nodes(facts), []) is None


def test_no_tree_no_fast_positions() -> None:
    module, facts = _facts(TRICKY[0])
    assert place(module, TRICKY[0], None, facts, _nodes(facts), []) is None


def test_choices_keep_the_earliest_candidate() -> None:
    text = TRICKY[0] + TRICKY[1].replace("import os\n", "")
    module, facts = _facts(text)
    refs = _refs(facts)
    full = positions(module, module, refs)
    tree = parse(text)
    for start in range(0, len(refs), 3):
        choice = refs[start:][::-1]
        fast = place(module, text, tree, facts, [], [choice])
        assert fast is not None
        found = [fast[id(n)] for n in choice if id(n) in fast]
        assert min(found) == min(full[id(n)] for n in choice)
        assert all(fast[id(n)] == full[id(n)] for n in choice if id(n) in fast)


def test_engine_results_with_and_without_fast_positions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = config(
        rule("banned-annotation", symbols=(WS,), use="x.y.Bridge"),
        rule("banned-call", symbols=(WS,)),
        rule("banned-import", symbols=(WS,), use="x.y.Bridge"),
    )
    code = (
        WS_IMPORT
        + "class A:\n    @staticmethod\n    def f(m: 'Optional[WebSocketManager]') -> None:\n"
        "        if m:\n            x: WebSocketManager = WebSocketManager()\n"
        "def g(a: WebSocketManager,\n      b: (WebSocketManager)): ...\n"
    ).encode()
    fast = analyse_source("app/mod.py", code, cfg)
    monkeypatch.setattr("bot.engine.run.place", lambda *a, **kw: None)
    slow = analyse_source("app/mod.py", code, cfg)
    assert len(fast.violations) == 6 and fast == slow


# ------------------------------------------------------------------- standard library sample


def _stdlib_sample(count: int, largest: int) -> list[tuple[str, str]]:
    root = Path(sysconfig.get_paths()["stdlib"])
    paths = sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)
    small = [p for p in paths if 0 < p.stat().st_size <= largest]
    out: list[tuple[str, str]] = []
    for p in small[:: max(1, len(small) // count)]:
        try:
            out.append((p.relative_to(root).as_posix(), p.read_bytes().decode("utf-8")))
        except UnicodeDecodeError:
            continue
    return out


def _provider_spans(module: cst.Module, nodes: list[cst.CSTNode]) -> dict[int, Span]:
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)  # keep the nodes' identities
    ranges = wrapper.resolve(PositionProvider)
    out: dict[int, Span] = {}
    for n in nodes:
        r = ranges[n]
        out[id(n)] = (r.start.line, r.start.column, r.end.line, r.end.column)
    return out


def test_stdlib_sample_positions_equal_libcst_positions() -> None:
    files = _stdlib_sample(300, 12_000)
    assert len(files) >= 250
    compared = 0
    for path, text in files:
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError:
            continue
        tree = parse(text)
        if tree is None:
            continue
        facts = collect(module, path, AliasTable({}))
        refs = _refs(facts)
        fast = place(module, text, tree, facts, refs, [])
        assert fast is not None, path
        expected = _provider_spans(module, refs)
        assert fast == expected, path
        compared += len(refs)
    assert compared >= 50_000

"""The text libcst parses (bot.engine.trim): bodies that hold nothing a rule can use are cut,
every kept line stays where it was, and the violations are the same as without the cut."""

from __future__ import annotations

import ast

import libcst
import pytest

from bot.engine import run as run_module
from bot.engine.run import analyse_source
from bot.engine.trim import trim

from .conftest import config, rule


def _body(name: str, lines: int = 9, indent: str = "    ") -> str:
    return f"{indent}def {name}(self):\n" + "".join(
        f"{indent}    x{n} = {n}\n" for n in range(lines))


def _cut(text: str, keep: list[tuple[int, int]]) -> str | None:
    return trim(text, ast.parse(text), keep)


def test_a_body_without_kept_lines_becomes_blank_lines_and_a_pass() -> None:
    text = "import a\n\ndef f():\n" + "".join(f"    y = {n}\n" for n in range(10)) + "g = 1\n"
    out = _cut(text, [(1, 1)])
    assert out is not None
    assert out.count("\n") == text.count("\n")
    lines = out.split("\n")
    assert lines[2] == "def f():" and lines[12] == "    pass" and lines[13] == "g = 1"
    assert all(not ln for ln in lines[3:12])
    libcst.parse_module(out)


def test_kept_lines_keep_their_body_and_the_methods_around_them_are_cut() -> None:
    text = ("class T:\n" + _body("a") + _body("b") + _body("c"))
    # b's body holds line 15
    out = _cut(text, [(15, 15)])
    assert out is not None
    lines = out.split("\n")
    assert lines[11:21] == text.split("\n")[11:21]  # b untouched
    assert lines[10] == "        pass" and lines[30] == "        pass"
    libcst.parse_module(out)


def test_a_decorated_first_statement_is_cut_from_its_decorator() -> None:
    text = "class T:\n    @staticmethod\n" + _body("a").replace("self", "") + _body("b")
    out = _cut(text, [])
    assert out is not None and "@staticmethod" not in out
    libcst.parse_module(out)


@pytest.mark.parametrize(
    "text",
    [
        "def f(): return [\n" + "1,\n" * 10 + "]\n",  # the body shares the header's line
        "def f(a,\n      b): x = [\n" + "1,\n" * 10 + "]\n",
        "def f():\n    x = 1\n    y = 2\n",  # too short to be worth it
    ],
)
def test_bodies_that_do_not_start_a_line_or_are_short_stay(text: str) -> None:
    assert _cut(text, []) is None


def test_line_ends_are_kept() -> None:
    text = "def f():\r\n" + "".join(f"    y = {n}\r\n" for n in range(10)) + "z = 1\r\n"
    out = _cut(text, [])
    assert out is not None and out.count("\r\n") == text.count("\r\n")
    assert out.endswith("    pass\r\nz = 1\r\n")


def test_violations_are_the_same_with_and_without_the_cut(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config(rule("banned-call", symbols=("legacy.core.Legacy",)),
                 rule("banned-import", symbols=("legacy.core.Legacy",), use="new.New"))
    code = (
        "from legacy.core import Legacy\n"
        "class Big:\n"
        + _body("unrelated")
        + "    @property\n"
        + "    def uses(self):\n"
        + "        return Legacy(  1,\n            2)\n"
        + _body("more")
        + "def late():\n    import legacy.core as lc\n    return lc.Legacy()\n"
    ).encode()
    with_cut = analyse_source("pkg/m.py", code, cfg)
    monkeypatch.setattr(run_module, "trim", lambda *a: None)
    without = analyse_source("pkg/m.py", code, cfg)
    assert with_cut == without
    assert [(v.rule, v.line, v.column) for v in with_cut.violations] == [
        ("banned-import", 1, 25), ("banned-call", 15, 16), ("banned-call", 29, 12)]


def test_string_annotations_keep_their_bodies_for_a_rule_that_reads_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config(rule("banned-annotation", symbols=("legacy.core.Legacy",), use="new.New"))
    code = (
        "from legacy import core\n"
        "class Big:\n"
        + _body("unrelated")
        + "    def typed(self):\n"
        + "        x: 'core.Legacy' = None\n"
        + "".join(f"        y{n} = {n}\n" for n in range(9))
    ).encode()
    with_cut = analyse_source("pkg/m.py", code, cfg)
    monkeypatch.setattr(run_module, "trim", lambda *a: None)
    assert with_cut == analyse_source("pkg/m.py", code, cfg)
    assert [(v.line, v.column) for v in with_cut.violations] == [(14, 13)]

"""The text libcst parses: the file with the bodies of the ``def``/``class`` statements that
hold nothing a rule can use cut out, every line where it was.

libcst's parser costs about 4 ms per KB (a 200 KB test module: 0.9 s), and a file that passes
the ast gate (:mod:`bot.engine.rules.gate`) usually holds its violations in a few statements:
an import at the top and some uses. The gate's facts are a superset of libcst's (every
reference whose first name can denote a listed symbol, every import at any depth), so a body
that holds none of them cannot add a finding, a binding or a definition (bindings come from
imports, which are all kept; definitions are module-level, and module-level statements are
never cut). Such a body is replaced by blank lines and a ``pass`` on its last line, so every
kept statement keeps its line and columns, violations keep their positions, and the lines
between statements (libcst's ``leading_lines``) are unchanged.

When a rule reads string annotations, the lines of every string in an annotation are kept too
(the gate does not parse them; libcst does). Pure: text in, text out; None when nothing can be
cut.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterable, Sequence

_NEWLINE = re.compile(r"(\r\n|\r|\n)")  # Python's line ends (a form feed is not one)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")
_MIN_CUT = 8  # lines: a shorter body is not worth the bookkeeping


def trim(text: str, tree: ast.Module, keep: Sequence[tuple[int, int]]) -> str | None:
    """``text`` with the bodies that hold no line of ``keep`` cut (see the module doc)."""
    cuts = list(_cuts(tree.body, _Spans(keep)))
    if not cuts:
        return None
    parts = _NEWLINE.split(text)  # line, end, line, end, ..., last line
    lines = parts[0::2]
    changed = False
    for first, column, last in cuts:  # 1-based, inclusive; ``first`` is the body's first line
        line = lines[first - 1]
        if column < 0:  # a decorated statement: its first line starts with the ``@``
            column = len(line) - len(line.lstrip(" \t"))
            if line[column:column + 1] != "@":
                continue
        head = line[:column]
        if head.strip(" \t") or len(head) != column:
            continue  # the body does not start its line (``def f(a,\n b): x = [...``)
        for n in range(first - 1, last - 1):
            lines[n] = ""
        lines[last - 1] = head + "pass"
        changed = True
    if not changed:
        return None
    parts[0::2] = lines
    return "".join(parts)


class _Spans:
    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        self.spans = spans
        self.starts = [s for s, _ in spans]
        # the furthest end among the spans up to each index: a span may start before the range
        # and reach into it
        reach: list[int] = []
        top = 0
        for _, e in spans:
            top = max(top, e)
            reach.append(top)
        self.reach = reach

    def touch(self, first: int, last: int) -> bool:
        """A span overlaps lines ``first..last``."""
        i = bisect.bisect_right(self.starts, last)  # spans starting at or before ``last``
        return i > 0 and self.reach[i - 1] >= first


def _cuts(body: Iterable[ast.AST], spans: _Spans) -> Iterable[tuple[int, int, int]]:
    """(first line, column, last line) of every body to cut, outermost only."""
    for stmt in body:
        inner = getattr(stmt, "body", None)
        if isinstance(stmt, _DEFS) and inner:
            # the body's first line: its first statement's, or that one's first decorator's
            # (column -1: found from the line)
            head = inner[0]
            decorators = getattr(head, "decorator_list", None)
            first, column = head.lineno, head.col_offset
            if decorators:
                first, column = min(first, *(d.lineno for d in decorators)), -1
            end = stmt.end_lineno or stmt.lineno
            if first > stmt.lineno and end - first + 1 >= _MIN_CUT and not spans.touch(
                    first, end):
                yield first, column, end
                continue
        for name in _LISTS:
            part = getattr(stmt, name, None)
            if isinstance(part, list):
                yield from _cuts(part, spans)


# -- imports only ----------------------------------------------------------------------------

_IMPORTS = (ast.Import, ast.ImportFrom)
_BLOCKS = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor,
    ast.While, ast.With, ast.AsyncWith, ast.Try, ast.TryStar,
)


_HOLDERS = (*_BLOCKS, ast.Match, ast.ExceptHandler, ast.match_case)


class _NoCut(Exception):
    """A shape the import-only text cannot keep (a one-line block, ``match`` holding an import)."""


def imports_only(
    text: str, tree: ast.Module, keep: Iterable[tuple[int, int]] | None = None
) -> tuple[str, list[int]] | None:
    """``text`` reduced to its import statements (those starting on the first line of a span of
    ``keep``, or all), for rules that read nothing else, and the line in ``text`` of each of
    its lines (1-based; ``lines[i]`` for line ``i + 1``).

    Every import statement (at any depth) keeps its lines, whole, with the statements that
    share a line with it; every block holding one becomes ``if 1:`` at the block's own column
    (its header's line; a clause after the first: ``elif``'s or ``except``'s line, the line
    before the first statement of ``else:``/``finally:``); every other line goes. libcst then
    parses a few lines instead of the file (blank lines cost it as much as code), each kept
    line is a line of the file with its columns, and the caller maps line numbers back. None for
    a shape this cannot keep (a block whose body starts on its header's line, a ``match``
    holding an import, a lone ``\r`` line end): the caller parses the file as before.
    ``tree`` is ``text``'s ast."""
    if "\r" not in text:
        parts = [p for line in text.split("\n") for p in (line, "\n")]
        parts.pop()
    elif text.count("\r") != text.count("\r\n"):
        return None  # a lone ``\r``: where ast and the line split may disagree, cut nothing
    else:
        parts = _NEWLINE.split(text)
    lines = parts[0::2]
    kept: dict[int, str] = {}  # 1-based line -> its text
    starts = sorted(_import_lines(tree.body, []) if keep is None else {s for s, _ in keep})
    try:
        _keep_imports(tree.body, lines, kept, 0, _Imports(starts))
    except _NoCut:
        return None
    order = sorted(kept)
    ends = parts[1::2]
    chunks = [kept[n] + (ends[n - 1] if n - 1 < len(ends) else "\n") for n in order]
    return "".join(chunks), order


def _import_lines(body: Iterable[ast.AST], out: list[int]) -> list[int]:
    """The first lines of every import statement in ``body``, at any depth (statements only:
    an import is never inside an expression)."""
    for stmt in body:
        if isinstance(stmt, _IMPORTS):
            out.append(stmt.lineno)
            continue
        if not isinstance(stmt, _HOLDERS):
            continue  # a simple statement
        for name in _LISTS:
            part = getattr(stmt, name, None)
            if isinstance(part, list):
                _import_lines(part, out)
    return out


class _Imports:
    """The first lines of the import statements to keep (sorted)."""

    def __init__(self, lines: list[int]) -> None:
        self.lines = lines
        self.wanted = set(lines)

    def within(self, first: int, last: int) -> bool:
        """An import starts on one of lines ``first..last``."""
        i = bisect.bisect_left(self.lines, first)
        return i < len(self.lines) and self.lines[i] <= last

    def holds(self, stmts: Sequence[ast.stmt]) -> bool:
        return bool(stmts) and self.within(stmts[0].lineno, _end(stmts[-1]))


def _end(stmt: ast.stmt) -> int:
    return stmt.end_lineno or stmt.lineno


def _keep_imports(
    body: Sequence[ast.stmt], lines: list[str], out: dict[int, str], last: int, imports: _Imports
) -> int:
    """Copy ``body``'s imports into ``out`` (1-based line -> text) below line ``last`` (the
    last line written so far); returns the new last line."""
    for i, stmt in enumerate(body):
        if isinstance(stmt, _IMPORTS):
            if stmt.lineno not in imports.wanted:
                continue
            # with the statements that share its lines (``x = (1,\n 2); import a``)
            first, end = stmt.lineno, _end(stmt)
            j = i
            while j > 0 and _end(body[j - 1]) >= first:
                j -= 1
                first = min(first, body[j].lineno)
            if lines[first - 1][: body[j].col_offset].strip(" \t\f"):
                raise _NoCut  # the statement does not start its line (``else: import a``)
            j = i
            while j + 1 < len(body) and body[j + 1].lineno <= end:
                j += 1
                end = max(end, _end(body[j]))
            if first < last:
                raise _NoCut
            for n in range(max(first, last + 1), end + 1):
                out[n] = lines[n - 1]
            last = max(last, end)
        elif isinstance(stmt, _BLOCKS):
            if imports.holds([stmt]):
                last = _keep_block(stmt, lines, out, last, imports)
        elif isinstance(stmt, ast.Match) and imports.holds([stmt]):
            raise _NoCut
    return last


def _keep_block(
    stmt: ast.stmt, lines: list[str], out: dict[int, str], last: int, imports: _Imports
) -> int:
    """Each clause of ``stmt`` that holds an import becomes ``if 1:`` over its imports."""
    head = lines[stmt.lineno - 1][: stmt.col_offset]
    if head.strip(" \t\f") or stmt.lineno <= last:
        raise _NoCut  # the block does not start its line
    before = stmt.lineno - 1  # the last line of the previous clause
    for header, clause in _clauses(stmt, lines):
        if not clause:
            continue
        if imports.holds(clause):
            if header is None:  # ``else:``/``finally:``: the line before the first statement
                header = clause[0].lineno - 1
            if header <= max(last, before) or header >= clause[0].lineno:
                raise _NoCut  # no line of its own for the header (``else: import x``)
            out[header] = head + "if 1:"
            last = _keep_imports(clause, lines, out, header, imports)
        before = _end(clause[-1])
    return last


def _clauses(stmt: ast.stmt, lines: list[str]) -> Iterable[tuple[int | None, list[ast.stmt]]]:
    """(header line, or None when ast does not know it; statements) of each clause of a block."""
    yield stmt.lineno, stmt.body  # type: ignore[attr-defined]
    if isinstance(stmt, ast.If):
        orelse = stmt.orelse
        while (len(orelse) == 1 and isinstance(orelse[0], ast.If)
               and lines[orelse[0].lineno - 1].lstrip(" \t\f").startswith("elif")):
            yield orelse[0].lineno, orelse[0].body
            orelse = orelse[0].orelse
        yield None, orelse
        return
    if isinstance(stmt, (ast.Try, ast.TryStar)):
        for handler in stmt.handlers:
            yield handler.lineno, handler.body
    yield None, getattr(stmt, "orelse", [])
    yield None, getattr(stmt, "finalbody", [])

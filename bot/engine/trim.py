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

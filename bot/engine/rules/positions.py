"""Spans of the nodes a violation needs, generating the code of only the statements that hold them.

libcst's own positions (PositionProvider) generate the code of the whole file, and so did the
engine, up to the last wanted node. Here only the innermost statement holding a node is
generated: the statement's first line is known from the stdlib :mod:`ast` tree of the same text
(the ast gate's, :mod:`bot.engine.rules.gate`), whose statements correspond one to one to
libcst's (a libcst ``SimpleStatementLine`` holds one ast statement per small statement).

The statement's code starts at column 0 of its first line minus the lines libcst keeps before
its first token (``leading_lines``, and the first decorator's), indented by the enclosing
blocks' indentation. Every generated chunk is compared with the file's text at the place it
is assumed to sit; on any disagreement (or a tree that does not correspond, a lone ``\\r``
line ending that ast counts and the engine does not) :func:`place` returns None and the
caller generates the code from the top of the file as before.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Sequence

import libcst as cst

from bot.engine.rules.facts import Facts, Site, Span, spans_in

# a suite, the ast statements of its body, the indentation (None: the default) of the cases of
# a ``match`` around it (libcst indents them as a block of their own)
_Suite = tuple[cst.BaseSuite, list[ast.stmt], "str | None"]


def sites(facts: Facts, ids: set[int]) -> dict[int, Site]:
    """The innermost statement site of each node of ``ids`` that a fact holds."""
    out: dict[int, Site] = {}
    for ref in facts.refs:
        at = ref.site
        if at is None:
            continue
        node: cst.CSTNode = ref.node
        while True:  # ref_hit may pick a node inside the chain
            if id(node) in ids:
                out[id(node)] = at
            if not isinstance(node, cst.Attribute):
                break
            node = node.value
        if ref.call is not None and id(ref.call) in ids:
            out[id(ref.call)] = at
        if ref.string is not None and id(ref.string.string) in ids:
            out[id(ref.string.string)] = at
    for imp in facts.imports:
        if imp.site is not None:
            for n in (imp.node, imp.stmt):
                if id(n) in ids:
                    out[id(n)] = imp.site
    for d in facts.definitions:
        if d.site is not None and id(d.node) in ids:
            out[id(d.node)] = d.site
    return out


def _width(stmt: cst.CSTNode) -> int:
    """How many ast statements the libcst statement is."""
    return len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1


def _same_kind(c: cst.CSTNode, a: ast.stmt) -> bool:
    """libcst and ast name their statement classes alike (ast adds ``Async``; ``del``)."""
    name = type(c.body[0] if isinstance(c, cst.SimpleStatementLine) else c).__name__
    return _AST_NAME.get(name, name) == type(a).__name__.removeprefix("Async")


_AST_NAME = {"Del": "Delete"}


def _suites(c: cst.CSTNode, a: ast.stmt) -> Iterator[_Suite]:
    """The suites of compound statement ``c`` with the statement lists of its ast ``a``."""
    if isinstance(c, (cst.FunctionDef, cst.ClassDef, cst.With)):
        yield c.body, a.body, None  # type: ignore[attr-defined]
    elif isinstance(c, cst.If) and isinstance(a, ast.If):
        yield c.body, a.body, None
        if isinstance(c.orelse, cst.If):  # elif: one If in the ast orelse
            if len(a.orelse) == 1 and isinstance(a.orelse[0], ast.If):
                yield from _suites(c.orelse, a.orelse[0])
        elif isinstance(c.orelse, cst.Else):
            yield c.orelse.body, a.orelse, None
    elif isinstance(c, (cst.For, cst.While)):
        yield c.body, a.body, None  # type: ignore[attr-defined]
        if c.orelse is not None:
            yield c.orelse.body, a.orelse, None  # type: ignore[attr-defined]
    elif isinstance(c, (cst.Try, cst.TryStar)) and isinstance(a, (ast.Try, ast.TryStar)):
        yield c.body, a.body, None
        if len(c.handlers) == len(a.handlers):
            for h, ah in zip(c.handlers, a.handlers, strict=True):
                yield h.body, ah.body, None  # type: ignore[attr-defined]
        if c.orelse is not None:
            yield c.orelse.body, a.orelse, None
        if c.finalbody is not None:
            yield c.finalbody.body, a.finalbody, None
    elif isinstance(c, cst.Match) and isinstance(a, ast.Match) and len(c.cases) == len(a.cases):
        for case, acase in zip(c.cases, a.cases, strict=True):
            yield case.body, acase.body, c.indent


_BodyIndex = tuple[dict[int, int], int]  # id(statement) -> its ast index; ast statement count


def _index(body: Sequence[cst.CSTNode]) -> _BodyIndex:
    where: dict[int, int] = {}
    count = 0
    for s in body:
        where[id(s)] = count
        count += _width(s)
    return where, count


def _pick(
    body: Sequence[cst.CSTNode], stmt: cst.CSTNode, astmts: list[ast.stmt],
    indexed: _BodyIndex | None = None,
) -> ast.stmt | None:
    """The ast statement of ``stmt`` (one of ``body``), None when the lists do not correspond.
    ``indexed`` is ``_index(body)``, for callers that pick many statements of one body."""
    where, count = indexed or _index(body)
    index = where.get(id(stmt), -1)
    if index < 0 or count != len(astmts):
        return None
    a = astmts[index]
    return a if _same_kind(stmt, a) else None


class _Located:
    __slots__ = ("first", "indents", "line")

    def __init__(self, line: int, first: int, indents: list[str]) -> None:
        self.line = line  # where the statement's code (its leading lines) starts
        self.first = first  # the line of its first token: every node of it is on or below
        self.indents = indents


class _Locator:
    def __init__(self, module: cst.Module, tree: ast.Module, text: str) -> None:
        self.module = module
        self.tree = tree
        self.text = text
        self.cache: dict[int, _Located | None] = {}
        self._starts: list[int] | None = None
        # one index per statement list: a file with thousands of findings stays linear
        self._bodies: dict[int, _BodyIndex] = {}

    def offset(self, line: int) -> int:
        """Character offset of the start of ``line`` (1-based; lines end with ``\\n``)."""
        if self._starts is None:
            self._starts = [0]
            for x in self.text.split("\n"):
                self._starts.append(self._starts[-1] + len(x) + 1)
        return self._starts[min(max(0, line - 1), len(self._starts) - 1)]

    def _pick(self, body: Sequence[cst.CSTNode], stmt: cst.CSTNode,
              astmts: list[ast.stmt]) -> ast.stmt | None:
        indexed = self._bodies.get(id(body))
        if indexed is None:
            indexed = self._bodies[id(body)] = _index(body)
        return _pick(body, stmt, astmts, indexed)

    def locate(self, at: Site) -> _Located | None:
        stmt = at[1]
        key = id(stmt)
        if key not in self.cache:
            self.cache[key] = self._locate(at)
        return self.cache[key]

    def _locate(self, at: Site) -> _Located | None:
        path: list[cst.BaseStatement] = []
        site: Site | None = at
        while site is not None:
            path.append(site[1])
            site = site[0]
        path.reverse()
        a = self._pick(self.module.body, path[0], self.tree.body)
        if a is None:
            return None
        indents: list[str] = []
        parent = path[0]
        for stmt in path[1:]:
            default = self.module.default_indent
            for suite, astmts, cases in _suites(parent, a):
                if isinstance(suite, cst.IndentedBlock) and any(s is stmt for s in suite.body):
                    found = self._pick(suite.body, stmt, astmts)
                    if found is None:
                        return None
                    a = found
                    if isinstance(parent, cst.Match):
                        indents.append(default if cases is None else cases)
                    indents.append(default if suite.indent is None else suite.indent)
                    break
            else:
                return None
            parent = stmt
        stmt = path[-1]
        leading: Sequence[cst.EmptyLine] = getattr(stmt, "leading_lines", ())
        before = len(leading)
        first = a.lineno
        decorators: Sequence[cst.Decorator] = getattr(stmt, "decorators", ())
        if decorators:
            listed: Sequence[ast.expr] = getattr(a, "decorator_list", ())
            if len(listed) != len(decorators):
                return None
            first = listed[0].lineno  # the line of ``@`` (else the text check refuses it)
            before += len(decorators[0].leading_lines)
        if first - before < 1:
            return None
        return _Located(first - before, first, indents)

    def spans(self, at: Site, nodes: Sequence[cst.CSTNode]) -> dict[int, Span] | None:
        where = self.locate(at)
        if where is None:
            return None
        return spans_in(
            at[1],
            self.module,
            nodes,
            indents=where.indents,
            line=where.line,
            text=self.text,
            offset=self.offset(where.line),
        )


def place(
    module: cst.Module,
    text: str,
    tree: ast.Module | None,
    facts: Facts,
    singles: Iterable[cst.CSTNode],
    choices: Iterable[Sequence[cst.CSTNode]],
) -> dict[int, Span] | None:
    """Spans (by node id) of every node of ``singles`` and of the earliest node of each of
    ``choices`` (later ones of a choice may be left out), or None: use :func:`positions`.

    ``module`` and ``tree`` are the libcst and ast trees of ``text``.
    """
    if tree is None or ("\r" in text and text.count("\r") != text.count("\r\n")):
        return None
    singles = list(singles)
    choices = [c for c in choices if c]
    ids = {id(n) for n in singles} | {id(n) for c in choices for n in c}
    at_of = sites(facts, ids)
    if len(at_of) != len(ids):
        return None
    locator = _Locator(module, tree, text)

    def grouped(nodes: Iterable[cst.CSTNode]) -> dict[int, tuple[Site, list[cst.CSTNode]]]:
        groups: dict[int, tuple[Site, list[cst.CSTNode]]] = {}
        for n in nodes:
            at = at_of[id(n)]
            groups.setdefault(id(at[1]), (at, []))[1].append(n)
        return groups

    spans: dict[int, Span] = {}
    for at, nodes in grouped(singles).values():
        found = locator.spans(at, nodes)
        if found is None:
            return None
        spans.update(found)
    for choice in choices:
        ordered: list[tuple[int, Site, list[cst.CSTNode]]] = []
        for at, nodes in grouped(choice).values():
            where = locator.locate(at)
            if where is None:
                return None
            ordered.append((where.first, at, nodes))
        ordered.sort(key=lambda item: item[0])
        best: Span | None = None
        for first, at, nodes in ordered:
            if best is not None and first > best[0]:
                break  # every node of this statement (and later ones) is below the best
            found = locator.spans(at, nodes)
            if found is None:
                return None
            spans.update(found)
            low = min(found.values())
            best = low if best is None else min(best, low)
    return spans

"""The one visit: collect a file's imports, references, annotations, calls and definitions.

Every rule kind filters these facts; none walks the tree again. The walk is iterative (deep
expressions do not hit the recursion limit) and skips pure-whitespace fields. Positions are not
computed here: every fact keeps the statement it sits in (:data:`Site`), and
:mod:`bot.engine.rules.positions` generates the code of only those statements for the few nodes
that end up in a violation (:func:`positions`, from the top of the file, when that fails;
libcst's PositionProvider would cost ~3x the parse for every file).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from bot.engine.cst_compat import generate
from bot.engine.names import AliasTable, Bindings, module_of_path, resolve_relative
from bot.engine.rules.syntax import cst_chain_base as _chain_base
from bot.engine.rules.syntax import cst_dotted as _dotted
from bot.engine.rules.syntax import is_literal

# The statement a node sits in, innermost first: (its site in the enclosing block's statement,
# or None at module level; the statement itself). Only statements of a module body or of an
# ``IndentedBlock`` get a site (see :mod:`bot.engine.rules.positions`).
Site = tuple["Site | None", cst.BaseStatement]


@dataclass(slots=True)
class StringAnnotation:
    """A string annotation (``"Optional[X]"``) parsed into ``root``; positions map into the file."""

    string: cst.SimpleString
    root: cst.BaseExpression
    exact: bool  # the string has no escapes: inner columns map 1:1 into the file
    offset: int  # characters from the string's first character to the expression's first


@dataclass(slots=True)
class Ref:
    """A ``Name`` or ``Attribute`` chain as written (``wm.WebSocketManager``), outermost node."""

    node: cst.BaseExpression
    dotted: str
    annotation: bool
    call: cst.Call | None  # the call this chain is the callee of
    string: StringAnnotation | None
    site: Site | None = None  # None: gathered by the ast gate


@dataclass(slots=True)
class ImportName:
    """One name an import statement brings in (or, ``from_module``, the module names come from)."""

    node: cst.CSTNode  # the alias's name, or ``ImportFrom.module``
    qualified: str | None  # None: a relative import that climbs above the root
    stmt: cst.Import | cst.ImportFrom
    line: cst.SimpleStatementLine | cst.SimpleStatementSuite
    from_module: bool
    site: Site | None = None


@dataclass(slots=True)
class Definition:
    """A module-level ``class``/``def``/assignment target.

    ``fallback``: an assignment inside a ``try`` block (any part) or an ``if TYPE_CHECKING``
    block that binds the name to ``None`` or to another name (``X = None`` in
    ``except ImportError:``): a compatibility binding, not a second definition.
    """

    name: str
    node: cst.Name
    site: Site | None = None
    fallback: bool = False


@dataclass(slots=True)
class Facts:
    path: str
    module: cst.Module | None  # None: facts gathered by the ast gate (bot.engine.rules.gate)
    aliases: AliasTable
    bindings: Bindings = field(default_factory=Bindings)
    imports: list[ImportName] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
    definitions: list[Definition] = field(default_factory=list)

    def resolve(self, ref: Ref) -> list[str]:
        return self.bindings.resolve(ref.dotted, self.aliases)

    def expand(self, qualified: str | None) -> Sequence[str]:
        return () if qualified is None else _expanded(self.aliases, qualified)

    def expand_import(self, imp: ImportName) -> Sequence[str]:
        """The names an import reaches; a module path (``import M``, the M of ``from M
        import``) is the module itself, never a binding of the same name
        (:data:`bot.engine.names.EXACT_ONLY`)."""
        if imp.qualified is None:
            return []
        module = imp.from_module or isinstance(imp.stmt, cst.Import)
        return _expanded(self.aliases, imp.qualified, module=module)


# :meth:`AliasTable.expand` remembered for the last table seen (one per configuration): a tree
# with many re-exports expands the same imports in file after file. One tuple, read once, so a
# thread never reads another table's answers.
_MEMO: tuple[AliasTable | None, dict[str, tuple[str, ...]]] = (None, {})
_MEMO_MAX = 1 << 16


def _expanded(aliases: AliasTable, qualified: str, *, module: bool = False) -> tuple[str, ...]:
    global _MEMO
    if not aliases:
        return (qualified,)
    table, memo = _MEMO
    if table is not aliases or len(memo) > _MEMO_MAX:
        memo = {}
        _MEMO = (aliases, memo)
    key = f"\0{qualified}" if module else qualified  # a module path expands apart
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = tuple(aliases.expand(qualified, module=module))
    return hit


_SKIP_FIELDS = frozenset(
    {
        "lpar", "rpar", "leading_lines", "lines_after_decorators", "header", "footer", "comma",
        "semicolon", "colon", "dot", "operator", "equal", "star", "asynchronous", "lbracket",
        "rbracket", "lbrace", "rbrace", "arrow", "encoding", "default_indent", "default_newline",
        "has_trailing_newline", "prefix", "quote", "trailing_whitespace", "whitespace",
        "indent", "newline",
    }
)
_FIELDS: dict[type[Any], tuple[str, ...]] = {}


def _fields(t: type[Any]) -> tuple[str, ...]:
    names = _FIELDS.get(t)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(t)
            if f.name not in _SKIP_FIELDS and "whitespace" not in f.name
        )
        _FIELDS[t] = names
    return names


_Item = tuple[cst.CSTNode, bool, "StringAnnotation | None", Site]


def collect(module: cst.Module, path: str, aliases: AliasTable) -> Facts:
    """Walk ``module`` once and return its facts (bindings filled, nothing matched yet)."""
    facts = Facts(path=path, module=module, aliases=aliases)
    _module_definitions(module.body, facts, None)
    own = module_of_path(path)
    if own:
        for d in facts.definitions:
            facts.bindings.bind(d.name, f"{own}.{d.name}")

    refs = facts.refs
    stack: list[_Item] = [(stmt, False, None, (None, stmt)) for stmt in reversed(module.body)]
    pop, push = stack.pop, stack.append
    while stack:
        node, ann, sa, at = pop()
        t = type(node)
        if t is cst.Name:
            refs.append(Ref(node, node.value, ann, None, sa, at))  # type: ignore[attr-defined,arg-type]
        elif t is cst.Attribute:
            dotted = _dotted(node)
            if dotted is not None:
                refs.append(Ref(node, dotted, ann, None, sa, at))  # type: ignore[arg-type]
            else:
                push((_chain_base(node), ann, sa, at))  # type: ignore[arg-type]
        elif t is cst.Call:
            call: cst.Call = node  # type: ignore[assignment]
            func = call.func
            dotted = _dotted(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
            if dotted is not None:
                refs.append(Ref(func, dotted, ann, call, sa, at))
            elif isinstance(func, cst.Attribute):
                push((_chain_base(func), ann, sa, at))
            else:
                push((func, ann, sa, at))
            for arg in call.args:
                push((arg.value, ann, sa, at))
        elif t is cst.Annotation:
            push((node.annotation, True, sa, at))  # type: ignore[attr-defined]
        elif t is cst.SimpleStatementLine or t is cst.SimpleStatementSuite:
            for small in node.body:  # type: ignore[attr-defined]
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    _import(small, node, facts, at)  # type: ignore[arg-type]
                else:
                    push((small, ann, sa, at))
        elif t is cst.SimpleString:
            if ann and sa is None:
                parsed = _string_annotation(node)  # type: ignore[arg-type]
                if parsed is not None:
                    push((parsed.root, True, parsed, at))
        elif t is cst.FunctionDef:
            fd: cst.FunctionDef = node  # type: ignore[assignment]
            for dec in fd.decorators:
                push((dec.decorator, ann, sa, at))
            push((fd.params, ann, sa, at))
            if fd.returns is not None:
                push((fd.returns, ann, sa, at))
            push((fd.body, ann, sa, at))
        elif t is cst.ClassDef:
            cd: cst.ClassDef = node  # type: ignore[assignment]
            for dec in cd.decorators:
                push((dec.decorator, ann, sa, at))
            for arg in (*cd.bases, *cd.keywords):
                push((arg.value, ann, sa, at))
            push((cd.body, ann, sa, at))
        elif t is cst.Param:
            p: cst.Param = node  # type: ignore[assignment]
            if p.annotation is not None:
                push((p.annotation, ann, sa, at))
            if p.default is not None:
                push((p.default, ann, sa, at))
        elif t is cst.Arg:
            push((node.value, ann, sa, at))  # type: ignore[attr-defined]
        elif t is cst.Subscript and ann and _is_literal(node):  # type: ignore[arg-type]
            push((node.value, ann, sa, at))  # type: ignore[attr-defined]  # Literal["x"]: no names
        elif t is cst.IndentedBlock:
            for stmt in node.body:  # type: ignore[attr-defined]
                push((stmt, ann, sa, (at, stmt)))
        elif t is cst.Global or t is cst.Nonlocal or t is cst.EmptyLine or t is cst.Comment:
            continue
        else:
            for name in _fields(t):
                value = getattr(node, name)
                if isinstance(value, cst.CSTNode):
                    push((value, ann, sa, at))
                elif isinstance(value, (tuple, list)):
                    for item in value:
                        if isinstance(item, cst.CSTNode):
                            push((item, ann, sa, at))
    return facts


def _is_literal(node: cst.Subscript) -> bool:
    return is_literal(_dotted(node.value))


def _string_annotation(node: cst.SimpleString) -> StringAnnotation | None:
    if node.prefix.lower() not in ("", "u"):  # bytes, raw or odd prefixes: not annotations
        return None
    try:
        value = node.evaluated_value
    except Exception:
        return None
    if not isinstance(value, str):
        return None
    body = value.lstrip()
    leading = value[: len(value) - len(body)]
    try:
        root = cst.parse_expression(body.rstrip())
    except Exception:
        return None
    # columns inside the string map 1:1 into the file unless escapes or a leading newline
    exact = node.raw_value == value and "\n" not in leading and "\r" not in leading
    offset = len(node.prefix) + len(node.quote) + len(leading)
    return StringAnnotation(node, root, exact, offset)


def _import(
    stmt: cst.Import | cst.ImportFrom,
    line: cst.SimpleStatementLine | cst.SimpleStatementSuite,
    facts: Facts,
    at: Site,
) -> None:
    b = facts.bindings
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            dotted = _dotted(alias.name)
            if dotted is None:
                continue
            facts.imports.append(ImportName(alias.name, dotted, stmt, line, False, at))
            asname = alias.asname
            if asname is not None and isinstance(asname.name, cst.Name):
                b.bind(asname.name.value, dotted)
            else:
                head = dotted.partition(".")[0]
                b.bind(head, head)
        return
    mod_dotted = _dotted(stmt.module) if stmt.module is not None else None
    if stmt.module is not None and mod_dotted is None:
        return
    base = resolve_relative(facts.path, len(stmt.relative), mod_dotted)
    if stmt.module is not None:
        facts.imports.append(ImportName(stmt.module, base, stmt, line, True, at))
    if isinstance(stmt.names, cst.ImportStar):
        if base is not None:
            b.stars.append(base)
        return
    for alias in stmt.names:
        name = _dotted(alias.name)
        if name is None:
            continue
        qualified = f"{base}.{name}" if base is not None else None
        facts.imports.append(ImportName(alias.name, qualified, stmt, line, False, at))
        if qualified is None:
            continue
        asname = alias.asname
        local = name
        if asname is not None and isinstance(asname.name, cst.Name):
            local = asname.name.value
        b.bind(local, qualified)


def _module_definitions(
    body: Iterable[cst.CSTNode], facts: Facts, outer: Site | None, guarded: bool = False
) -> None:
    """Module-level definitions, looking into ``if``/``try``/``with``/loops but not into defs.

    ``body``: a module's or an ``IndentedBlock``'s statements (whose site is ``outer``), or a
    ``SimpleStatementSuite``'s small statements (no definitions are looked for there).
    ``guarded``: inside a ``try`` or an ``if TYPE_CHECKING`` (see :attr:`Definition.fallback`)."""
    for stmt in body:
        if not isinstance(stmt, cst.BaseStatement):
            continue
        at: Site = (outer, stmt)
        if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
            facts.definitions.append(Definition(stmt.name.value, stmt.name, at))
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    soft = guarded and is_fallback_value(small.value)
                    for target in small.targets:
                        _targets(target.target, facts, at, soft)
                elif isinstance(small, cst.AnnAssign):
                    soft = guarded and (small.value is None or is_fallback_value(small.value))
                    _targets(small.target, facts, at, soft)
        elif isinstance(stmt, (cst.If, cst.Try, cst.TryStar, cst.With, cst.For, cst.While)):
            inner_guarded = (
                guarded
                or isinstance(stmt, (cst.Try, cst.TryStar))
                or (isinstance(stmt, cst.If) and _mentions_type_checking(stmt.test))
            )
            for name in ("body", "orelse", "finalbody", "handlers"):
                part = getattr(stmt, name, None)
                if part is None:
                    continue
                parts = part if isinstance(part, (tuple, list)) else [part]
                for p in parts:
                    inner = getattr(p, "body", None)
                    if isinstance(inner, cst.BaseSuite):
                        _module_definitions(_suite(inner), facts, at, inner_guarded)
                    elif isinstance(p, cst.BaseSuite):
                        _module_definitions(_suite(p), facts, at, inner_guarded)


def is_fallback_value(value: cst.BaseExpression) -> bool:
    """``None`` or a dotted name: what a compatibility fallback binds (not a new definition)."""
    while isinstance(value, cst.Attribute):
        value = value.value
    return isinstance(value, cst.Name)


def _mentions_type_checking(test: cst.BaseExpression) -> bool:
    """``TYPE_CHECKING``, ``typing.TYPE_CHECKING``, ``not TYPE_CHECKING``."""
    while isinstance(test, cst.UnaryOperation):
        test = test.expression
    if isinstance(test, cst.Attribute):
        test = test.attr
    return isinstance(test, cst.Name) and test.value == "TYPE_CHECKING"


def _suite(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    body: Sequence[cst.CSTNode] = suite.body
    return body


def _targets(target: cst.BaseExpression, facts: Facts, at: Site, soft: bool = False) -> None:
    if isinstance(target, cst.Name):
        facts.definitions.append(Definition(target.value, target, at, soft))
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            _targets(el.value, facts, at)


# ---------------------------------------------------------------------------------- positions

Span = tuple[int, int, int, int]  # line (1-based), col (0-based chars), end_line, end_col (excl.)


def positions(
    root: cst.CSTNode, module: cst.Module, nodes: Iterable[cst.CSTNode]
) -> dict[int, Span]:
    """Spans of ``nodes`` (by ``id``) within the code generated for ``root``.

    Code generation stops right after the last wanted node, so a violation near the top of a
    file costs a fraction of generating the whole file.
    """
    return spans_in(root, module, nodes) or {}


def spans_in(
    root: cst.CSTNode,
    module: cst.Module,
    nodes: Iterable[cst.CSTNode],
    *,
    indents: Sequence[str] = (),
    line: int = 1,
    text: str | None = None,
    offset: int = 0,
) -> dict[int, Span] | None:
    """Spans of ``nodes`` (by ``id``) when the code generated for ``root`` starts at column 0 of
    ``line``, inside blocks indented by ``indents``.

    ``text``: the generated code must be ``text`` from ``offset`` on, else None (also None when
    a node is not generated). Without ``text``: the nodes that were generated, nothing checked.
    """
    wanted: dict[int, list[int]] = {id(n): [-1, -1] for n in nodes}
    if not wanted:
        return {}
    tokens = generate(root, module, wanted, indents)
    marks = sorted({i for slot in wanted.values() for i in slot if i >= 0})
    where: dict[int, tuple[int, int]] = {}
    col, prev = 0, 0
    for idx in marks:
        chunk = "".join(tokens[prev:idx])
        if text is not None:
            if not text.startswith(chunk, offset):
                return None
            offset += len(chunk)
        newlines = chunk.count("\n")
        if newlines:
            line += newlines
            col = len(chunk) - chunk.rfind("\n") - 1
        else:
            col += len(chunk)
        where[idx] = (line, col)
        prev = idx
    out: dict[int, Span] = {}
    for key, (start, end) in wanted.items():
        if start < 0 or end < 0:
            if text is not None:
                return None
            continue
        (l1, c1), (l2, c2) = where[start], where[end]
        out[key] = (l1, c1, l2, c2)
    return out

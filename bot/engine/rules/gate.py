"""Second-stage prefilter: which rules could fire in a file, decided with the stdlib ``ast``.

A file that passes the text prefilter is parsed with :mod:`ast` (about 9x faster than libcst)
and the rules' own :meth:`~bot.engine.rules.base.RuleKind.check` run over facts gathered from
that tree. Only the rules with a finding are then run on the libcst tree, so a file in which
no rule can fire is never parsed by libcst.

The facts are a *superset* of what :func:`bot.engine.rules.facts.collect` finds, and every
rule's "is there a finding" is monotone in its facts, so the gate never drops a rule that
would report something:

- imports are the same (same resolution: :func:`bot.engine.names.resolve_relative`);
- definitions look into every compound statement (the libcst walk looks into fewer);
- references: every ``Name``/``Attribute`` chain/call the libcst walk records, plus names
  that ``ast`` keeps as strings (``except E as n``, ``case C(x=n)``); only references whose
  first name can denote a listed symbol are kept (the others cannot match);
- names resolve through star imports even when bound locally;
- string annotations are not parsed: a banned-annotation rule passes when a string in an
  annotation holds, anywhere, a local name that can denote one of its symbols.

A file ``ast`` cannot parse returns None: the caller parses it with libcst as before, so
syntax errors are reported the same way.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from typing import Any, cast

from bot.config.model import Rule
from bot.engine import rules as rule_kinds  # (its KINDS are found after this module loads)
from bot.engine.names import AliasTable, Bindings, module_of_path, resolve_relative
from bot.engine.rules.facts import Definition, Facts, ImportName, Ref
from bot.engine.rules.outline import import_outline
from bot.engine.rules.syntax import ast_chain_base as _chain_base
from bot.engine.rules.syntax import ast_dotted as _dotted
from bot.engine.rules.syntax import is_literal, parse_ast

_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")
_COMPOUND = (
    ast.If, ast.Try, ast.TryStar, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While,
)
_FIELDS: dict[type[Any], tuple[str, ...]] = {}
# what may hold statements: compound statements, their handlers and cases
_HOLDERS = (
    *_COMPOUND, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Match,
    ast.ExceptHandler, ast.match_case,
)


def gate(
    path: str, text: str, rules: Sequence[Rule], aliases: AliasTable
) -> tuple[Rule, ...] | None:
    """The rules of ``rules`` that may fire in ``text``; None when ``ast`` cannot parse it."""
    return gate_tree(path, text, rules, aliases)[0]


def parse(text: str) -> ast.Module | None:
    """``text``'s ast, or None when ``ast`` cannot parse it."""
    return parse_ast(text)


def gate_tree(
    path: str, text: str, rules: Sequence[Rule], aliases: AliasTable
) -> tuple[tuple[Rule, ...] | None, ast.Module | None]:
    """:func:`gate`, and the ast it parsed (None when it could not), which locates statements
    for :mod:`bot.engine.rules.positions`."""
    kept, tree, _, _ = gate_facts(path, text, rules, aliases)
    return kept, tree


def gate_facts(
    path: str, text: str, rules: Sequence[Rule], aliases: AliasTable, *, outline: bool = False
) -> tuple[tuple[Rule, ...] | None, ast.Module | None, list[tuple[int, int]], bool]:
    """:func:`gate_tree`, and the line spans of what the kept rules may use: every reference
    and import the gate gathered, and the string annotations when a kept rule reads them
    (:mod:`bot.engine.trim` keeps these lines). When every rule reads only imports: the
    import statements a rule flags.

    ``outline``: when every rule reads only imports, the tree may be the file's import outline
    (:func:`bot.engine.rules.outline.import_outline`: the same imports, module-level
    definitions and blocks around the imports, bodies without an import cut); the last value
    says whether the tree is the whole file's."""
    # rules that read only imports need no references (the walk over every expression)
    kinds = rule_kinds.KINDS
    refs = not all(kinds[r.kind].reads_only_imports for r in rules if r.kind in kinds)
    tree = import_outline(text) if outline and not refs else None
    whole = tree is None
    if tree is None:
        tree = parse(text)
    if tree is None:
        return None, None, [], True
    facts, strings = collect_ast(tree, path, aliases, _symbols(rules), refs=refs)
    keep: list[Rule] = []
    hits: list[ast.AST] = []
    for rule in rules:
        kind = kinds.get(rule.kind)
        found = kind.check(rule, facts) if kind is not None else []
        if (
            kind is None
            or found
            or (kind.reads_string_annotations
                and _strings_may_hit(facts, strings, kind.referenced(rule)))
        ):
            keep.append(rule)
            hits.extend(cast(ast.AST, n) for f in found for n in f.nodes)
    if not refs:
        # rules that read only imports: the statements that may hold a violation are the ones
        # the check flagged on these (superset) facts
        return tuple(keep), tree, _spans(hits), whole
    nodes: list[ast.AST] = [*(cast(ast.AST, r.node) for r in facts.refs),
                            *(cast(ast.AST, i.stmt) for i in facts.imports)]
    if any(kinds[r.kind].reads_string_annotations for r in keep if r.kind in kinds):
        nodes.extend(strings)
    return tuple(keep), tree, _spans(nodes), whole


def _spans(nodes: Iterable[ast.AST]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for node in nodes:
        start = getattr(node, "lineno", None)
        if isinstance(start, int):
            end = getattr(node, "end_lineno", None)
            spans.append((start, end if isinstance(end, int) else start))
    spans.sort()
    return spans


def _symbols(rules: Iterable[Rule]) -> tuple[str, ...]:
    return rule_kinds.referenced_names(rules)


def _related(a: str, b: str) -> bool:
    """One of the dotted names is the other or lies inside it."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _may_denote(qualified: str, symbols: Sequence[str], aliases: AliasTable) -> bool:
    """A reference resolving to ``qualified`` (or to a member of it) may match a symbol."""
    if any(_related(qualified, s) for s in symbols):
        return True
    if not aliases:
        return False
    # a module holding re-exports: the name used decides; be generous
    if aliases.leads_to_key(qualified):
        return True
    return any(_related(q, s) for q in aliases.expand(qualified)[1:] for s in symbols)


def collect_ast(
    tree: ast.Module, path: str, aliases: AliasTable, symbols: Sequence[str], *,
    refs: bool = True,
) -> tuple[Facts, list[ast.Constant]]:
    """Facts of ``tree`` (a superset of libcst's, see the module doc) and the string constants
    inside annotations. Not ``refs``: imports and definitions only (no references, no
    strings)."""
    facts = Facts(path=path, module=None, aliases=aliases, bindings=Bindings(stars_always=True))
    _definitions(tree.body, facts)
    own = module_of_path(path)
    if own:
        for d in facts.definitions:
            facts.bindings.bind(d.name, f"{own}.{d.name}")
    _imports(tree.body, facts)
    if not refs:
        return facts, []

    b = facts.bindings
    heads = {
        head
        for head, qualified in b.names.items()
        if any(_may_denote(q, symbols, aliases) for q in qualified)
    }
    every = any(_may_denote(star, symbols, aliases) for star in b.stars)
    strings: list[ast.Constant] = []
    if not heads and not every:
        return facts, strings  # no reference can denote a listed symbol: imports decide

    found = facts.refs

    def ref(node: ast.AST, dotted: str, ann: bool, call: ast.Call | None = None) -> None:
        if every or dotted.partition(".")[0] in heads:
            found.append(Ref(cast(Any, node), dotted, ann, cast(Any, call), None))

    stack: list[tuple[ast.AST, bool]] = [(s, False) for s in reversed(tree.body)]
    pop, push = stack.pop, stack.append
    while stack:
        node, ann = pop()
        t = type(node)
        if t is ast.Name:
            ref(node, node.id, ann)  # type: ignore[attr-defined]
        elif t is ast.Attribute:
            dotted = _dotted(node)
            if dotted is not None:
                ref(node, dotted, ann)
            else:
                push((_chain_base(node), ann))
        elif t is ast.Call:
            call = cast(ast.Call, node)
            func = call.func
            dotted = _dotted(func)
            if dotted is not None:
                ref(func, dotted, ann, call)
            else:
                push((_chain_base(func), ann))
            for arg in call.args:
                push((arg, ann))
            for kw in call.keywords:
                push((kw.value, ann))
        elif t is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if isinstance(value, str):
                if ann:
                    strings.append(cast(ast.Constant, node))
            elif value is None or value is True or value is False:
                ref(node, repr(value), ann)  # libcst: ``None``/``True``/``False`` are names
        elif t is ast.FunctionDef or t is ast.AsyncFunctionDef:
            fd = cast(ast.FunctionDef, node)
            for dec in fd.decorator_list:
                push((dec, ann))
            _arguments(fd.args, ann, push)
            if fd.returns is not None:
                push((fd.returns, True))
            for stmt in fd.body:
                push((stmt, ann))
        elif t is ast.ClassDef:
            cd = cast(ast.ClassDef, node)
            for dec in cd.decorator_list:
                push((dec, ann))
            for base in cd.bases:
                push((base, ann))
            for kw in cd.keywords:
                push((kw.value, ann))
            for stmt in cd.body:
                push((stmt, ann))
        elif t is ast.Lambda:
            lam = cast(ast.Lambda, node)
            _arguments(lam.args, ann, push)
            push((lam.body, ann))
        elif t is ast.AnnAssign:
            aa = cast(ast.AnnAssign, node)
            push((aa.target, ann))
            push((aa.annotation, True))
            if aa.value is not None:
                push((aa.value, ann))
        elif t is ast.Subscript and ann and _is_literal(cast(ast.Subscript, node)):
            push((node.value, ann))  # type: ignore[attr-defined]  # Literal["x"]: no names
        elif (
            t is ast.Import
            or t is ast.ImportFrom
            or t is ast.Global
            or t is ast.Nonlocal
            or t is ast.Load
            or t is ast.Store
            or t is ast.Del
        ):
            continue
        else:
            for name in _fields(t):
                value = getattr(node, name)
                if isinstance(value, ast.AST):
                    push((value, ann))
                elif name == "kwd_attrs":
                    for attr in value:
                        ref(node, attr, ann)  # ``case C(x=...)``: names in libcst
                elif isinstance(value, list):
                    for item in value:
                        if isinstance(item, ast.AST):
                            push((item, ann))
                elif isinstance(value, str) and name in ("name", "rest"):
                    ref(node, value, ann)  # ``except E as n``, ``case {**rest}``: names in libcst
    return facts, strings


def _fields(t: type[Any]) -> tuple[str, ...]:
    names = _FIELDS.get(t)
    if names is None:
        names = tuple(f for f in t._fields if f not in ("ctx", "type_comment"))
        _FIELDS[t] = names
    return names


def _arguments(args: ast.arguments, ann: bool, push: Any) -> None:
    for a in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg):
        if a is not None and a.annotation is not None:
            push((a.annotation, True))
    for d in (*args.defaults, *args.kw_defaults):
        if d is not None:
            push((d, ann))


def _is_literal(node: ast.Subscript) -> bool:
    return is_literal(_dotted(node.value))


def _imports(body: Iterable[ast.stmt], facts: Facts) -> None:
    """Every import statement, at any depth (imports are statements: expressions hold none)."""
    stack: list[ast.AST] = list(body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            _import(stmt, facts)
            continue
        if not isinstance(stmt, _HOLDERS):
            continue  # a simple statement holds no statement
        for name in _STATEMENT_LISTS:
            part = getattr(stmt, name, None)
            if part:
                stack.extend(part)


def _import(stmt: ast.Import | ast.ImportFrom, facts: Facts) -> None:
    b = facts.bindings
    node = cast(Any, stmt)
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            facts.imports.append(ImportName(node, alias.name, node, node, False))
            if alias.asname is not None:
                b.bind(alias.asname, alias.name)
            else:
                head = alias.name.partition(".")[0]
                b.bind(head, head)
        return
    base = resolve_relative(facts.path, stmt.level or 0, stmt.module)
    if stmt.module is not None:
        facts.imports.append(ImportName(node, base, node, node, True))
    for alias in stmt.names:
        if alias.name == "*":
            if base is not None:
                b.stars.append(base)
            continue
        qualified = f"{base}.{alias.name}" if base is not None else None
        facts.imports.append(ImportName(node, qualified, node, node, False))
        if qualified is not None:
            b.bind(alias.asname or alias.name, qualified)


def _definitions(body: Iterable[ast.stmt], facts: Facts, guarded: bool = False) -> None:
    """Module-level definitions, looking into every compound statement but not into defs
    (``guarded``: see :attr:`bot.engine.rules.facts.Definition.fallback`)."""
    for stmt in body:
        if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            facts.definitions.append(Definition(stmt.name, cast(Any, stmt)))
        elif isinstance(stmt, ast.Assign):
            soft = guarded and _fallback_value(stmt.value)
            for target in stmt.targets:
                _targets(target, facts, soft)
        elif isinstance(stmt, ast.AnnAssign):
            soft = guarded and (stmt.value is None or _fallback_value(stmt.value))
            _targets(stmt.target, facts, soft)
        elif isinstance(stmt, _COMPOUND):
            inner = (
                guarded
                or isinstance(stmt, (ast.Try, ast.TryStar))
                or (isinstance(stmt, ast.If) and _type_checking(stmt.test))
            )
            for name in ("body", "orelse", "finalbody"):
                _definitions(getattr(stmt, name, ()), facts, inner)
            for handler in getattr(stmt, "handlers", ()):
                _definitions(handler.body, facts, inner)


def _fallback_value(value: ast.expr) -> bool:
    """Mirrors :func:`bot.engine.rules.facts.is_fallback_value` (``None`` is a Constant here)."""
    if isinstance(value, ast.Constant):
        return value.value is None
    while isinstance(value, ast.Attribute):
        value = value.value
    return isinstance(value, ast.Name)


def _type_checking(test: ast.expr) -> bool:
    while isinstance(test, ast.UnaryOp):
        test = test.operand
    if isinstance(test, ast.Attribute):
        return test.attr == "TYPE_CHECKING"
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _targets(target: ast.expr, facts: Facts, soft: bool = False) -> None:
    if isinstance(target, ast.Name):
        facts.definitions.append(Definition(target.id, cast(Any, target), None, soft))
    elif isinstance(target, (ast.Tuple, ast.List)):
        for el in target.elts:
            _targets(el, facts)
    elif isinstance(target, ast.Starred):
        _targets(target.value, facts)


def _strings_may_hit(facts: Facts, strings: Sequence[ast.Constant],
                     symbols: Sequence[str]) -> bool:
    """A string annotation may name one of ``symbols``: it holds a local name (anywhere, so
    implicitly concatenated strings are covered too) that can denote one, or a star import
    can supply one."""
    if not strings:
        return False
    text = "\n".join(str(s.value) for s in strings)
    aliases = facts.aliases
    b = facts.bindings
    if b.stars and any(_may_denote(star, symbols, aliases) for star in b.stars):
        return True
    return any(
        head in text and any(_may_denote(q, symbols, aliases) for q in qualified)
        for head, qualified in b.names.items()
    )

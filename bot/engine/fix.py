"""The one fix engine: a file's violations -> the fixed file, verified (contract §16).

Both the review suggestions and ``ssot-bot fix`` come from :func:`fix_file`. It rewrites the
file with libcst (formatting and comments kept), then verifies the result before anything is
offered: it parses and compiles, every name the fix introduced is imported, no name whose
import it removed is still used, no import it touched is duplicated, and the engine no longer
finds the fixed violations. A fix that fails any of these is not offered: its violations are
listed as needing a person.

What each kind fixes (the rule must have ``use``; the kind declares it, ``RuleKind.fix_site``):

- ``banned-annotation``: the annotation's name becomes ``use``'s last component;
- ``banned-call``: the callee becomes ``use``'s last component;
- ``banned-import``: the import of the banned name becomes an import of ``use``'s name — only
  when every other reference to the imported name is rewritten by one of the two rules above;
  otherwise the import stays and the violation needs a person.

``use``'s name is imported where it is missing (merged into an existing ``from`` import of its
module, else a new statement after the last module-level import); an import whose every use the
fix rewrote is removed (an import statement left with no names goes, its comments move to the
next statement). Every other kind, and rules without ``use``, need a person.

Pure: text in, text out; no file system.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from bot.config.model import Config, Rule
from bot.engine.model import FileResult, Violation
from bot.engine.rules import KINDS
from bot.engine.rules.base import FixSite

# what each kind's fix rewrites, as the kind declares it (``RuleKind.fix_site``)
FIX_SITES: Mapping[str, FixSite] = {
    name: kind.fix_site for name, kind in KINDS.items() if kind.fix_site is not None}
FIXABLE_KINDS = frozenset(FIX_SITES)
NEEDS_A_PERSON = "needs a person"

Span = tuple[int, int, int, int]  # line, column (0-based), end line, end column (exclusive)


@dataclass(frozen=True, slots=True)
class FileFix:
    """What the fix engine did to one file.

    ``fixed``: the whole fixed text (``original`` when nothing was fixed). ``done``: the
    violations the fix removes; ``left``: the fixable-kind violations it could not fix, with
    why; ``suggestions``: for each violation (by fingerprint) whose part of the fix lies in its
    own lines, the replacement text of those lines — offered only when these parts together are
    the whole fix, so applying every suggestion gives exactly ``fixed``.
    """

    path: str
    original: str
    fixed: str
    done: tuple[Violation, ...] = ()
    left: tuple[tuple[Violation, str], ...] = ()
    suggestions: Mapping[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        """The fix as a unified diff (``a/PATH`` -> ``b/PATH``), empty when nothing changed."""
        if not self.changed:
            return ""
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True),
            self.fixed.splitlines(keepends=True),
            f"a/{self.path}",
            f"b/{self.path}",
        )
        return "".join(ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n"
                       for ln in lines)


def fixable(rule: Rule) -> bool:
    """The engine can fix this rule's violations (its kind has a fix and it names ``use``)."""
    return rule.kind in FIXABLE_KINDS and bool(rule.use) and "." in (rule.use or "")


# the engine's own check of one file, without fixes (bot.engine.run.analyse_source): given by
# the caller, so that this module never imports the engine's runner (which calls it)
Check = Callable[..., FileResult]


def fix_file(
    path: str,
    text: str,
    config: Config,
    violations: Sequence[Violation],
    *,
    check: Check,
    rules: Iterable[str] | None = None,
) -> FileFix:
    """Fix ``violations`` (the engine's findings in ``text``) where a fix is right.

    ``rules``: only these rule ids are fixed (None: every rule). Violations of other rules are
    not listed at all; fixable-kind violations that stay are in :attr:`FileFix.left`.
    """
    by_id = {r.id: r for r in config.rules}
    wanted = None if rules is None else frozenset(rules)
    chosen = [v for v in violations if wanted is None or v.rule in wanted]
    candidates = [v for v in chosen if v.rule in by_id and fixable(by_id[v.rule])]
    left: list[tuple[Violation, str]] = [
        (v, _why_not(by_id.get(v.rule))) for v in chosen if v not in candidates
    ]
    if not candidates:
        return FileFix(path, text, text, left=tuple(left))
    try:
        planned = _Planner(text, by_id).plan(candidates)
    except (cst.ParserSyntaxError, RecursionError):
        return FileFix(path, text, text, left=tuple(left + [(v, "does not parse")
                                                            for v in candidates]))
    fixed, done, refused, touched = planned
    left.extend(refused)
    if done:
        problem, after = verify(path, fixed, config, violations, done, touched, check)
        if problem is not None:
            left.extend((v, f"{NEEDS_A_PERSON}: the fix was not safe ({problem})") for v in done)
            fixed, done = text, []
        else:
            # what the fix resolved on the way (a dual-pattern file left with one pattern) is
            # no longer listed; what stays is listed where it now is
            stays = {v.rule for v in after}
            kept = [(v, why) for v, why in left if v.rule in stays]
            refused_rules = {v.rule for v, _ in refused}
            left = kept + [
                (v, _why_not(by_id.get(v.rule))) for v in after
                if v.rule in stays and v.rule not in refused_rules
                and all(v.rule != k.rule for k, _ in kept)
                and (wanted is None or v.rule in wanted)
            ]
    left.sort(key=lambda p: (p[0].line, p[0].column, p[0].rule))
    suggestions = _suggestions(text, fixed, done) if done else {}
    return FileFix(path, text, fixed, tuple(done), tuple(left), suggestions)


def _why_not(rule: Rule | None) -> str:
    if rule is None or rule.kind not in FIXABLE_KINDS:
        return f"{NEEDS_A_PERSON}: {rule.kind if rule else 'this rule'} has no automatic fix"
    return f"{NEEDS_A_PERSON}: the rule names no `use`"


# ------------------------------------------------------------------------------ planning


@dataclass(slots=True)
class _Touched:
    """Names a fix introduced (must be imported after it) and removed (must be unused)."""

    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)


_Site = tuple[cst.ImportAlias, cst.Import | cst.ImportFrom, cst.SimpleStatementLine]


class _Index(cst.CSTVisitor):
    """One walk: nodes by span, import aliases, module-level imports, uses of each name."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.by_span: dict[Span, list[cst.CSTNode]] = {}
        # id(alias.name) -> (alias, its ImportFrom, the statement line), module level or not
        self.aliases: dict[int, _Site] = {}
        self.uses: dict[str, list[cst.Name]] = {}  # Name nodes that may read the name
        self.strings: list[tuple[cst.SimpleString, Span]] = []  # strings (annotations, __all__)
        self.module_imports: list[tuple[cst.ImportFrom, cst.SimpleStatementLine]] = []
        self.import_lines: list[cst.SimpleStatementLine] = []  # module-level lines importing
        self.top_imports: set[int] = set()  # ids of module-level import statements
        self.bound: dict[str, int] = {}  # module-level import bindings of each name
        self.other_bindings: set[str] = set()  # names bound other than by a module-level import
        self._line: cst.SimpleStatementLine | None = None
        self._depth = 0  # nesting of compound statements / defs
        self._skip: set[int] = set()  # Name nodes that are not reads (attr, keyword, alias)

    def _span(self, node: cst.CSTNode) -> Span:
        r: CodeRange = self.get_metadata(PositionProvider, node)
        return (r.start.line, r.start.column, r.end.line, r.end.column)

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Name, cst.Attribute, cst.Call, cst.SimpleString)):
            span = self._span(node)
            self.by_span.setdefault(span, []).append(node)
            if isinstance(node, cst.SimpleString):
                self.strings.append((node, span))
        if isinstance(node, cst.Attribute):
            self._skip.add(id(node.attr))
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            self._skip.add(id(node.keyword))
        elif isinstance(node, cst.Name) and id(node) not in self._skip:
            self.uses.setdefault(node.value, []).append(node)
        elif isinstance(node, cst.SimpleStatementLine):
            self._line = node
        elif isinstance(node, cst.SimpleStatementSuite):
            self._line = None  # ``if x: import y``: not rewritten
        elif isinstance(node, (cst.ClassDef, cst.FunctionDef)):
            self.other_bindings.add(node.name.value)
            self._skip.add(id(node.name))
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            line = self._line
            top = self._depth == 0 and line is not None
            if top:
                assert line is not None
                self.top_imports.add(id(node))
                if not self.import_lines or self.import_lines[-1] is not line:
                    self.import_lines.append(line)
                if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
                    self.module_imports.append((node, line))
            if not isinstance(node.names, cst.ImportStar):
                for alias in node.names:
                    if line is not None:
                        self.aliases[id(alias.name)] = (alias, node, line)
                    self._bind_alias(alias, module_level=top)
        elif isinstance(node, (cst.Param,)):
            self.other_bindings.add(node.name.value)
        elif isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Name):
            self.other_bindings.add(node.target.value)
        if isinstance(node, (cst.BaseCompoundStatement,)):
            self._depth += 1
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, cst.BaseCompoundStatement):
            self._depth -= 1

    def _bind_alias(self, alias: cst.ImportAlias, *, module_level: bool) -> None:
        for part in (alias.name, alias.asname.name if alias.asname else None):
            if part is not None:
                for n in _names_in(part):
                    self._skip.add(id(n))
        local = _local_name(alias)
        if module_level:
            self.bound[local] = self.bound.get(local, 0) + 1
        else:
            self.other_bindings.add(local)


def _names_in(node: cst.CSTNode) -> list[cst.Name]:
    if isinstance(node, cst.Name):
        return [node]
    if isinstance(node, cst.Attribute):
        return [*_names_in(node.value), node.attr]
    return []


def _local_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return cst.Module([]).code_for_node(alias.name).split(".")[0]


def _dotted(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _span_of(v: Violation) -> Span:
    return (v.line, v.column - 1, v.end_line, v.end_column - 1)


class _Planner:
    def __init__(self, text: str, rules: Mapping[str, Rule]) -> None:
        self.text = text
        self.rules = rules
        self.module = cst.parse_module(text)
        self.wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        self.index = _Index()
        self.wrapper.visit(self.index)
        self.replace: dict[int, cst.CSTNode] = {}  # id(original node) -> new node
        self.touched = _Touched()
        self.rewritten: set[int] = set()  # ids of Name nodes whose reads the fix replaced
        self.rewritten_strings: dict[int, list[str]] = {}  # string node id -> names replaced
        self.string_names: set[str] = set()  # first names of the references replaced in strings

    # -- the plan ----------------------------------------------------------------------------

    def plan(
        self, candidates: Sequence[Violation]
    ) -> tuple[str, list[Violation], list[tuple[Violation, str]], _Touched]:
        done: list[Violation] = []
        refused: list[tuple[Violation, str]] = []
        imports: list[Violation] = []
        needed: dict[str, str] = {}  # name to import -> its module
        for v in candidates:
            rule = self.rules[v.rule]
            if FIX_SITES[rule.kind] == "import":
                imports.append(v)
                continue
            why = self._name_fix(v, rule, needed)
            if why is None:
                done.append(v)
            else:
                refused.append((v, f"{NEEDS_A_PERSON}: {why}"))
        removals: list[_Site] = []
        for v in imports:
            rule = self.rules[v.rule]
            why = self._import_fix(v, rule, needed, removals)
            if why is None:
                done.append(v)
            else:
                refused.append((v, f"{NEEDS_A_PERSON}: {why}"))
        if not done:
            return self.text, [], refused, self.touched
        for name, module in needed.items():
            conflict = self._conflict(name, module)
            if conflict is not None:
                return self.text, [], refused + [
                    (v, f"{NEEDS_A_PERSON}: {conflict}") for v in done], self.touched
        # imports whose every use the fix rewrote go (banned names or modules reached through)
        for local, nodes in self.index.uses.items():
            if local in needed or not self.index.bound.get(local):
                continue
            if nodes and all(id(n) in self.rewritten for n in nodes) and not self._in_strings(
                local
            ):
                removals.extend(self._import_aliases_binding(local))
        fixed = self._apply(needed, removals)
        return fixed, sorted(done, key=lambda v: (v.line, v.column, v.rule)), refused, \
            self.touched

    def _name_fix(self, v: Violation, rule: Rule, needed: dict[str, str]) -> str | None:
        module, _, name = (rule.use or "").rpartition(".")
        span = _span_of(v)
        nodes = self.index.by_span.get(span, [])
        target: cst.BaseExpression | None = None
        if FIX_SITES[rule.kind] == "call":
            call = next((n for n in nodes if isinstance(n, cst.Call)), None)
            if call is not None and _dotted(call.func) is not None:
                target = call.func
        else:
            target = next(
                (n for n in nodes if isinstance(n, (cst.Name, cst.Attribute))
                 and _dotted(n) is not None), None
            )
            if target is None:
                return self._string_fix(span, name, needed, module)
        if target is None:
            return "the reference is not a plain name"
        self.replace[id(target)] = cst.Name(name)
        self.touched.added.add(name)
        needed[name] = module
        self.rewritten.update(id(n) for n in _names_in(target))
        return None

    def _string_fix(self, span: Span, name: str, needed: dict[str, str], module: str) -> str | None:
        """A name inside a string annotation, on one line: replaced inside the string."""
        l1, c1, l2, c2 = span
        if l1 != l2:
            return "the reference spans lines inside a string"
        for node, (s1, sc1, s2, sc2) in self.index.strings:
            if s1 == s2 == l1 and sc1 < c1 and c2 < sc2:
                old = self.text.splitlines()[l1 - 1][c1:c2]
                if not re.fullmatch(r"[\w.]+", old):
                    return "the reference is not a plain name"
                self.string_names.add(old.split(".")[0])
                a, b = c1 - sc1, c2 - sc1
                current = self.replace.get(id(node), node)
                assert isinstance(current, cst.SimpleString)
                # replacements inside one string are applied right to left
                edits = self.rewritten_strings.setdefault(id(node), [])
                edits.append(f"{a}:{b}:{name}")
                value = node.value
                for edit in sorted(edits, key=lambda e: -int(e.split(":")[0])):
                    ea, eb, en = edit.split(":", 2)
                    value = value[: int(ea)] + en + value[int(eb):]
                self.replace[id(node)] = node.with_changes(value=value)
                self.touched.added.add(name)
                needed[name] = module
                return None
        return "the reference is not a plain name"

    def _import_fix(
        self,
        v: Violation,
        rule: Rule,
        needed: dict[str, str],
        removals: list[_Site],
    ) -> str | None:
        module, _, name = (rule.use or "").rpartition(".")
        nodes = self.index.by_span.get(_span_of(v), [])
        found = next((self.index.aliases[id(n)] for n in nodes if id(n) in self.index.aliases),
                     None)
        if found is None:
            return "only a name imported with `from ... import` is rewritten"
        alias, stmt, line = found
        if not isinstance(stmt, cst.ImportFrom):
            return "only a name imported with `from ... import` is rewritten"
        local = _local_name(alias)
        uses = self.index.uses.get(local, [])
        left = [n for n in uses if id(n) not in self.rewritten]
        if left:
            where = self._line_of(left[0])
            return f"`{local}` is still used on line {where}, and no rule with `use` rewrites it"
        if self._in_strings(local):
            return f"`{local}` is named in a string (a string annotation or `__all__`)"
        removals.append((alias, stmt, line))
        self.touched.removed.add(local)
        # the banned import becomes an import of ``use``'s name, unless the fix rewrote every
        # use of the banned name to other names (then it would only add an unused import)
        if not (uses or local in self.string_names) or name in self.touched.added:
            needed.setdefault(name, module)
            self.touched.added.add(name)
        return None

    def _line_of(self, node: cst.CSTNode) -> int:
        r: CodeRange = self.wrapper.resolve(PositionProvider)[node]
        return r.start.line

    def _in_strings(self, local: str) -> bool:
        word = re.compile(rf"(?<![\w.]){re.escape(local)}(?!\w)")
        for node, _span in self.index.strings:
            current = self.replace.get(id(node), node)
            assert isinstance(current, cst.SimpleString)
            body = current.value
            if word.search(body) and (
                id(node) in self.rewritten_strings or _looks_like_code(body, local)
            ):
                return True
        return False

    def _conflict(self, name: str, module: str) -> str | None:
        """Why ``name`` cannot be brought in from ``module`` here (None: it can)."""
        if name in self.index.other_bindings:
            return f"`{name}` already names something else in this file"
        for stmt, _line in self.index.module_imports:
            for alias in stmt.names if not isinstance(stmt.names, cst.ImportStar) else ():
                if _local_name(alias) == name and not self._imports(stmt, alias, module, name):
                    return f"`{name}` is already imported from elsewhere"
        return None

    @staticmethod
    def _imports(stmt: cst.ImportFrom, alias: cst.ImportAlias, module: str, name: str) -> bool:
        return (not stmt.relative and _dotted(stmt.module) == module
                and _dotted(alias.name) == name)

    def _import_aliases_binding(
        self, local: str
    ) -> list[_Site]:
        out = []
        for alias, stmt, line in self.index.aliases.values():
            if id(stmt) in self.index.top_imports and _local_name(alias) == local:
                out.append((alias, stmt, line))
                self.touched.removed.add(local)
        return out

    # -- applying ----------------------------------------------------------------------------

    def _apply(
        self,
        needed: Mapping[str, str],
        removals: Sequence[_Site],
    ) -> str:
        removed_aliases = {id(a) for a, _, _ in removals}
        additions: dict[int, list[str]] = {}  # id(ImportFrom) -> names appended to it
        new_statements: dict[str, list[str]] = {}  # module -> names of a new statement
        for name, module in sorted(needed.items()):
            if self._already_imported(name, module):
                continue
            host = next(
                (s for s, _ in self.index.module_imports
                 if self._same_module(s, module)
                 and not all(id(a) in removed_aliases for a in _aliases(s))),
                None,
            )
            if host is not None:
                additions.setdefault(id(host), []).append(name)
            else:
                new_statements.setdefault(module, []).append(name)
        # a new statement replaces the first banned import that goes entirely, else it follows
        # the last module-level import (the top of the module when there is none)
        emptied = [
            line for _, stmt, line in removals
            if all(id(a) in removed_aliases for a in _aliases(stmt)) and len(line.body) == 1
        ]
        anchor: cst.SimpleStatementLine | None = None
        if self.index.import_lines:
            anchor = self.index.import_lines[-1]
        transformer = _Rewrite(
            self.replace, removed_aliases, additions,
            [f"from {m} import {', '.join(ns)}" for m, ns in new_statements.items()],
            emptied[0] if emptied else None, anchor,
        )
        fixed = self.module.visit(transformer)
        return fixed.code

    def _already_imported(self, name: str, module: str) -> bool:
        return any(
            self._imports(stmt, alias, module, name) and _local_name(alias) == name
            for stmt, _ in self.index.module_imports
            for alias in _aliases(stmt)
        )

    @staticmethod
    def _same_module(stmt: cst.ImportFrom, module: str) -> bool:
        return not stmt.relative and _dotted(stmt.module) == module


def _aliases(stmt: cst.Import | cst.ImportFrom) -> Sequence[cst.ImportAlias]:
    return () if isinstance(stmt.names, cst.ImportStar) else stmt.names


def _looks_like_code(body: str, local: str) -> bool:
    """A string that is a name or a type expression (``"X"``, ``'Optional[X]'``), not prose."""
    try:
        value = ast.literal_eval(body)
        tree = ast.parse(value.strip(), mode="eval") if isinstance(value, str) else None
    except (SyntaxError, ValueError, RecursionError, MemoryError, TypeError):
        return False
    if tree is None:
        return False
    allowed = (ast.Expression, ast.Name, ast.Attribute, ast.Subscript, ast.Tuple, ast.BinOp,
               ast.BitOr, ast.Constant, ast.Load, ast.List)
    nodes = list(ast.walk(tree))
    return all(isinstance(n, allowed) for n in nodes) and any(
        isinstance(n, ast.Name) and n.id == local for n in nodes)


class _Rewrite(cst.CSTTransformer):
    def __init__(
        self,
        replace: Mapping[int, cst.CSTNode],
        removed_aliases: set[int],
        additions: Mapping[int, list[str]],
        new_statements: list[str],
        instead_of: cst.SimpleStatementLine | None,
        after: cst.SimpleStatementLine | None,
    ) -> None:
        super().__init__()
        self.replace_ = replace
        self.removed = removed_aliases
        self.additions = additions
        self.new_statements = new_statements
        self.instead_of = instead_of
        self.after = after
        self.emptied: set[int] = set()  # ImportFrom statements left with no names
        self.dropped: set[int] = set()  # statement lines left with no statements

    def on_leave(  # type: ignore[override]  # one hook for every node type
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode:
        new = self.replace_.get(id(original_node))
        if new is not None:
            if isinstance(original_node, cst.SimpleString):
                return new
            if isinstance(new, cst.Name) and isinstance(original_node, cst.BaseExpression):
                return new.with_changes(lpar=original_node.lpar, rpar=original_node.rpar)
            return new
        if isinstance(original_node, (cst.Import, cst.ImportFrom)):
            assert isinstance(updated_node, (cst.Import, cst.ImportFrom))
            return self._import_from(original_node, updated_node)
        if isinstance(original_node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            assert isinstance(updated_node, (cst.SimpleStatementLine, cst.SimpleStatementSuite))
            return self._small(original_node, updated_node)
        if isinstance(original_node, (cst.Module, cst.IndentedBlock)):
            assert isinstance(updated_node, (cst.Module, cst.IndentedBlock))
            return self._body(original_node, updated_node)
        return updated_node

    def _import_from(
        self, original: cst.Import | cst.ImportFrom, updated: cst.Import | cst.ImportFrom
    ) -> cst.Import | cst.ImportFrom:
        if isinstance(original.names, cst.ImportStar) or isinstance(updated.names, cst.ImportStar):
            return updated
        kept = [u for o, u in zip(original.names, updated.names, strict=True)
                if id(o) not in self.removed]
        extra = self.additions.get(id(original), [])
        if len(kept) == len(original.names) and not extra:
            return updated
        if not kept and not extra:
            self.emptied.add(id(original))
            return updated
        # the separator of the names already there (one per line in parentheses stays so)
        first = original.names[0].comma
        sep = first if isinstance(first, cst.Comma) else cst.Comma(
            whitespace_after=cst.SimpleWhitespace(" "))
        lpar = getattr(original, "lpar", None)
        if len(original.names) == 1 and isinstance(lpar, cst.LeftParen) and isinstance(
                lpar.whitespace_after, cst.ParenthesizedWhitespace):
            sep = cst.Comma(whitespace_after=lpar.whitespace_after)  # one name a line
        names = [*kept, *(cst.ImportAlias(cst.Name(n)) for n in extra)]
        names = [n.with_changes(comma=sep) for n in names[:-1]] + [
            names[-1].with_changes(comma=original.names[-1].comma)]
        merged = updated.with_changes(names=names)
        if isinstance(merged, cst.ImportFrom) and extra and merged.lpar is None:
            code = cst.Module([]).code_for_node(merged)
            if len(code) > MAX_LINE and "#" not in code and "\\" not in code:
                return _wrapped(merged)
        return merged

    def _small(
        self,
        original: cst.SimpleStatementLine | cst.SimpleStatementSuite,
        updated: cst.SimpleStatementLine | cst.SimpleStatementSuite,
    ) -> cst.SimpleStatementLine | cst.SimpleStatementSuite:
        """Drop the import statements the fix emptied; a line left with none is dropped by
        its body (:meth:`_body`), a suite gets ``pass``."""
        kept = [u for o, u in zip(original.body, updated.body, strict=True)
                if id(o) not in self.emptied]
        if len(kept) == len(original.body):
            return updated
        if not kept:
            if isinstance(updated, cst.SimpleStatementLine):
                self.dropped.add(id(original))
                return updated
            kept = [cst.Pass()]
        kept[-1] = kept[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(body=kept)

    def _body(
        self, original: cst.Module | cst.IndentedBlock, updated: cst.Module | cst.IndentedBlock
    ) -> cst.Module | cst.IndentedBlock:
        out: list[cst.BaseStatement] = []
        carried: list[cst.EmptyLine] = []  # the comments above a dropped import
        for stmt, new_stmt in zip(original.body, updated.body, strict=True):
            if id(stmt) in self.dropped:
                if stmt is self.instead_of and self.new_statements:
                    replacement = _statement(self.new_statements.pop(0)).with_changes(
                        trailing_whitespace=stmt.trailing_whitespace)
                    out.append(replacement.with_changes(leading_lines=[
                        *carried, *_leading(new_stmt)]))
                    carried = []
                else:
                    carried.extend(_leading(new_stmt))
                continue
            if carried:
                new_stmt = new_stmt.with_changes(leading_lines=[*carried, *_leading(new_stmt)])
                carried = []
            out.append(new_stmt)
            if stmt is self.after and self.new_statements and self.instead_of is None:
                out.extend(_statement(s) for s in self.new_statements)
                self.new_statements = []
        if isinstance(original, cst.Module) and self.new_statements and self.instead_of is None:
            # no import to follow: at the top, after the docstring and __future__ imports
            at = _insertion_point(out)
            out[at:at] = [_statement(s) for s in self.new_statements]
            self.new_statements = []
        if not out and isinstance(updated, cst.IndentedBlock):
            out = [cst.SimpleStatementLine([cst.Pass()])]
        return updated.with_changes(body=out)


def _leading(stmt: cst.BaseStatement) -> Sequence[cst.EmptyLine]:
    lines: Sequence[cst.EmptyLine] = getattr(stmt, "leading_lines", ())
    return lines


MAX_LINE = 99  # a new or merged ``from`` import longer than this is wrapped in parentheses


def _statement(code: str) -> cst.SimpleStatementLine:
    stmt = cst.parse_statement(code + "\n")
    assert isinstance(stmt, cst.SimpleStatementLine)
    small = stmt.body[0]
    if isinstance(small, cst.ImportFrom) and len(code) > MAX_LINE:
        stmt = stmt.with_changes(body=[_wrapped(small)])
    return stmt


def _wrapped(stmt: cst.ImportFrom) -> cst.ImportFrom:
    """``from m import (\n    a,\n    b,\n)`` (one name a line, a trailing comma)."""
    module = cst.Module([]).code_for_node(stmt).split(" import ", 1)[0]
    names = [cst.Module([]).code_for_node(a.with_changes(comma=cst.MaybeSentinel.DEFAULT))
             for a in _aliases(stmt)]
    code = f"{module} import (\n" + "".join(f"    {n},\n" for n in names) + ")\n"
    parsed = cst.parse_statement(code)
    assert isinstance(parsed, cst.SimpleStatementLine)
    small = parsed.body[0]
    assert isinstance(small, cst.ImportFrom)
    return small


def _insertion_point(body: Sequence[cst.BaseStatement]) -> int:
    at = 0
    for i, stmt in enumerate(body):
        if not isinstance(stmt, cst.SimpleStatementLine):
            break
        small = stmt.body[0] if stmt.body else None
        docstring = i == 0 and isinstance(small, cst.Expr) and isinstance(
            small.value, (cst.SimpleString, cst.ConcatenatedString))
        future = isinstance(small, cst.ImportFrom) and _dotted(small.module) == "__future__"
        if docstring or future:
            at = i + 1
        else:
            break
    return at


# ------------------------------------------------------------------------------ verifying


def verify(
    path: str,
    fixed: str,
    config: Config,
    before: Sequence[Violation],
    done: Sequence[Violation],
    touched: _Touched,
    check: Check,
) -> tuple[str | None, tuple[Violation, ...]]:
    """Why the fixed text must not be offered, or None: it parses (libcst and ast), compiles,
    imports every name the fix introduced exactly once at module level, no longer reads a name
    whose import it removed, and the engine no longer finds the fixed violations. Also returns
    the violations the engine finds in the fixed text."""
    try:
        cst.parse_module(fixed)
        tree = ast.parse(fixed, path)
        compile(tree, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, cst.ParserSyntaxError) as exc:
        return f"the result does not compile ({type(exc).__name__})", ()
    imported: dict[str, int] = {}
    for stmt in _module_level(tree.body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                local = alias.asname or alias.name.split(".")[0]
                imported[local] = imported.get(local, 0) + 1
    for name in touched.added:
        if imported.get(name, 0) != 1:
            return f"`{name}` would be imported {imported.get(name, 0)} times", ()
    reads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for name in touched.removed - touched.added:
        if name in reads and name not in imported:
            return f"`{name}` would be used but no longer imported", ()
    after = check(path, fixed.encode("utf-8"), config, fixes=False)
    if after.error is not None:
        return f"the engine cannot read the result: {after.error.message}", ()
    fixed_rules: dict[str, int] = {}
    for v in done:
        fixed_rules[v.rule] = fixed_rules.get(v.rule, 0) + 1
    for rule, count in fixed_rules.items():
        was = sum(1 for v in before if v.rule == rule)
        now = sum(1 for v in after.violations if v.rule == rule)
        if now > was - count:
            return f"`ssot-bot check` still finds {rule}", ()
    return None, after.violations


def _module_level(body: Sequence[ast.stmt]) -> Iterable[ast.stmt]:
    """Module-level statements, also inside ``if``/``try`` blocks (``if TYPE_CHECKING:``)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.Try, ast.TryStar)):
            yield from _module_level(stmt.body)
            yield from _module_level(stmt.orelse)
            if isinstance(stmt, (ast.Try, ast.TryStar)):
                yield from _module_level(stmt.finalbody)
                for handler in stmt.handlers:
                    yield from _module_level(handler.body)


# ------------------------------------------------------------------------------ suggestions


def with_fixes(result: FileResult, text: str, config: Config, check: Check) -> FileResult:
    """``result`` with each violation's verified fix: ``fixable``, the suggestion when its fix
    lies in its own lines, and the file's fix as a diff (for the check run's text)."""
    by_id = {r.id: r for r in config.rules}
    if not any(v.rule in by_id and fixable(by_id[v.rule]) for v in result.violations):
        return result
    fix = fix_file(result.path, text, config, result.violations, check=check)
    if not fix.done:
        return result
    done = {v.fingerprint for v in fix.done}
    violations = tuple(
        replace(v, fixable=v.fingerprint in done, suggestion=fix.suggestions.get(v.fingerprint))
        for v in result.violations
    )
    return replace(result, violations=violations, fix_diff=fix.diff())


def _suggestions(original: str, fixed: str, done: Sequence[Violation]) -> dict[str, str]:
    """Each fixed violation's own lines as fixed, when every changed line of the file lies in
    the lines of a fixed violation (violations sharing lines: the first carries the change)
    and applying them all gives exactly ``fixed``; else none."""
    a = original.split("\n")
    b = fixed.split("\n")
    holders: dict[tuple[int, int], Violation] = {}
    for v in sorted(done, key=lambda v: (v.line, v.end_line, v.column)):
        holders.setdefault((v.line, v.end_line), v)
    spans = sorted(holders)
    if any(spans[i][1] >= spans[i + 1][0] for i in range(len(spans) - 1)):
        return {}  # overlapping ranges: no clean split
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for op, i1, i2, _j1, _j2 in ops:
        if op == "equal":
            continue
        if op == "insert":
            if not any(lo - 1 <= i1 <= hi for lo, hi in spans):
                return {}
        elif not all(any(lo <= n <= hi for lo, hi in spans) for n in range(i1 + 1, i2 + 1)):
            return {}
    out: dict[str, str] = {}
    rebuilt: list[str] = []
    at = 0
    for lo, hi in spans:
        start, end = _map_line(ops, lo - 1, a, b), _map_line(ops, hi, a, b)
        rebuilt += a[at: lo - 1] + b[start:end]
        at = hi
        out[holders[(lo, hi)].fingerprint] = "\n".join(b[start:end])
    rebuilt += a[at:]
    return out if rebuilt == b else {}


def _map_line(
    ops: Sequence[tuple[str, int, int, int, int]], x: int, a: list[str], b: list[str]
) -> int:
    """Where boundary ``x`` of ``a`` (a position between lines) lies in ``b``: exact in
    unchanged text; inside a changed block, where the lines on either side match best."""
    for op, i1, i2, j1, _j2 in ops:
        if op == "equal" and i1 <= x <= i2:
            return j1 + (x - i1)
    for op, i1, i2, j1, j2 in ops:
        if op == "equal" or not i1 <= x <= i2:
            continue
        if x == i1:
            return j1
        if x == i2:
            return j2
        block = (i1, i2, j1, j2)
        return max(range(j1, j2 + 1), key=lambda y: _split_score(a, b, block, x, y))
    return len(b)


def _split_score(
    a: list[str], b: list[str], block: tuple[int, int, int, int], x: int, y: int
) -> float:
    """How well ``a``'s lines before/after ``x`` match ``b``'s before/after ``y`` in a block."""
    i1, i2, j1, j2 = block
    left = difflib.SequenceMatcher(None, "\n".join(a[i1:x]), "\n".join(b[j1:y]))
    right = difflib.SequenceMatcher(None, "\n".join(a[x:i2]), "\n".join(b[y:j2]))
    return left.ratio() * (x - i1) + right.ratio() * (i2 - x)

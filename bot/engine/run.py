"""One file through the engine: prefilter -> one parse -> one visit -> every rule -> violations.

The prefilter has two stages: a text test (:func:`may_match`, in the parent process) and, in
:func:`analyse_text`, an ``ast`` gate (:mod:`bot.engine.rules.gate`) that keeps only the
rules that could fire, so libcst parses only files that may hold a violation, and only their
parts that may (:mod:`bot.engine.trim` cuts the other bodies). The gate's ast tree then
locates the statements holding violations, so that only their code is generated to find
positions (:mod:`bot.engine.rules.positions`).

Pure and in-process; :mod:`bot.engine.pool` spreads files over worker processes.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

import libcst as cst

from bot.config.globs import path_filter
from bot.config.model import Config, Rule
from bot.engine.fingerprint import with_fingerprints
from bot.engine.fix import with_fixes
from bot.engine.model import FileError, FileResult, Violation
from bot.engine.names import AliasTable, last_component, module_of_path, prefixes
from bot.engine.rules import KINDS
from bot.engine.rules.base import WORD_START, Finding, Need, words
from bot.engine.rules.facts import Facts, Span, collect, positions
from bot.engine.rules.gate import gate_facts
from bot.engine.rules.gate import parse as ast_parse
from bot.engine.rules.positions import place
from bot.engine.rules.syntax import ASCII_WORD, ascii_words, search_word_start
from bot.engine.suppress import is_suppressed, suppressions
from bot.engine.trim import imports_only, trim

NOT_UTF8 = "not UTF-8 text"


def rules_for_path(config: Config, path: str) -> tuple[Rule, ...]:
    """The rules that apply to ``path``: the config's ``paths`` and the rule's ``paths`` match."""
    compiled = _compiled(config)
    return compiled.applying(path) if compiled.checked(path) else ()


@dataclass(frozen=True, slots=True)
class _Group:
    """Prefilter need, compiled (see :class:`bot.engine.rules.base.Need`)."""

    literals: frozenset[str]
    search: Callable[[str], bool]  # the need's pattern (and keyed words) occurs in the text
    packages: frozenset[str]
    owned: frozenset[str]  # proper dotted prefixes of Need.owned (modules holding one)
    scanned: bool  # every literal is an identifier, so the word scan sees it
    words_only: bool  # the pattern is "one of the literals as a word": the scan decides
    pairs: Mapping[str, frozenset[str]] | None  # see Need.pairs (None: no pairing test)
    inside: frozenset[str]  # see Need.inside
    pair_words: frozenset[str] = frozenset()  # the keys of ``pairs``
    common: frozenset[str] = frozenset()  # see Need.common

    def paired(self, text: str, top: str, present: Words) -> bool:
        """The file names a last word together with a package of a name ending in it (or
        imports relatively inside such a package)."""
        if self.pairs is None:
            return True
        relative: bool | None = None
        for word in present.found(self.pair_words):
            heads = self.pairs[word]
            if present.any_of(heads) or present.any_of(self.common):
                return True
            if top in heads or top in self.common:
                if relative is None:
                    relative = _has_relative(text)
                if relative:
                    return True
        return False

    def exempt(self, text: str, top: str, module: str | None, present: Words) -> bool:
        """The file may match without naming any word of the need."""
        if module is not None and module in self.owned:
            return True  # the file's own definitions may be the symbols
        # relative imports reach the package's names without naming it (with pairs: a name of
        # this package whose last word the file holds)
        if (
            top in self.packages
            and (self.pairs is None
                 or any(top in self.pairs[w] or top in self.common
                        for w in present.found(self.pair_words)))
            and _has_relative(text)
        ):
            return True
        return (
            module is not None
            and any(p in self.inside for p in prefixes(module) if p != module)
            and _has_relative(text)
        )


class Words:
    """Which words occur in a text as whole words, each searched for once and only when a
    decision needs it (most files are settled by the first word looked for).

    Asked about many words at once (a repository's re-exports can name tens of thousands),
    the text's words are listed once instead and the question becomes a set intersection:
    linear in the text and in the words, never their product."""

    __slots__ = ("_every", "_found", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._found: dict[str, bool] = {}
        self._every: frozenset[str] | None = None

    def has(self, word: str) -> bool:
        hit = self._found.get(word)
        if hit is None:
            if self._every is not None and ASCII_WORD.fullmatch(word):
                hit = word in self._every
            else:
                hit = has_word(self._text, word)
            self._found[word] = hit
        return hit

    def found(self, words: Iterable[str]) -> Iterator[str]:
        """The ``words`` that occur in the text."""
        if not isinstance(words, frozenset) or len(words) <= _MANY_WORDS:
            yield from (w for w in words if self.has(w))
            return
        plain, other = _split_plain(words)
        if self._every is None:
            self._every = ascii_words(self._text)
        yield from (plain & self._every if len(plain) < len(self._every) else self._every & plain)
        yield from (w for w in other if self.has(w))

    def any_of(self, words: Iterable[str]) -> bool:
        return next(iter(self.found(words)), None) is not None


_MANY_WORDS = 32


@functools.lru_cache(maxsize=64)
def _split_plain(words: frozenset[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """``words`` split into those made of ASCII word characters only (found by set look-up in
    a text's listed words) and the others (searched for one by one)."""
    plain = frozenset(w for w in words if ASCII_WORD.fullmatch(w))
    return plain, tuple(w for w in words if w not in plain)


# no leading lookbehind: a pattern that starts with a literal is searched for fast (the
# boundary before ``from`` is checked by hand)
_RELATIVE = re.compile(r"from[\s\\]+\.")


def _has_relative(text: str) -> bool:
    """``text`` has a relative import (``from .``; may see one in a string, never miss one)."""
    return search_word_start(_RELATIVE, text) is not None


@dataclass(frozen=True, slots=True)
class _Compiled:
    config: Config
    aliases: AliasTable
    required: dict[int, tuple[_Group, ...]]  # id(rule) -> groups of names
    checked: Callable[[str], bool]  # config.paths
    rule_paths: tuple[tuple[Rule, Callable[[str], bool]], ...]  # each rule's paths
    # id(rule) -> the last words of its symbols and of the names re-exporting them (§13)
    symbol_words: dict[int, frozenset[str]]

    def applying(self, path: str) -> tuple[Rule, ...]:
        """The rules whose own ``paths`` match (``config.paths`` aside)."""
        return tuple(r for r, applies in self.rule_paths if applies(path))


def _ascii_word(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


_FIND_AT_MOST = 16  # occurrences tested by hand before the word's pattern takes over


@functools.lru_cache(maxsize=1024)
def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(word)}\b", re.ASCII)


def has_word(text: str, word: str) -> bool:
    """``word`` occurs in ``text`` with no ASCII word character on either side.

    ``str.find`` first (several times faster than a pattern that starts with ``\b``); a text
    where the word occurs inside longer words over and over (``xWordx`` 100,000 times, 0.4 s
    by hand) is left to the pattern after a few, so the cost stays linear in C."""
    end = len(text)
    i = text.find(word)
    tried = 0
    while i >= 0:
        j = i + len(word)
        if (i == 0 or not _ascii_word(text[i - 1])) and (j == end or not _ascii_word(text[j])):
            return True
        tried += 1
        if tried >= _FIND_AT_MOST:
            return _word_pattern(word).search(text, i + 1) is not None
        i = text.find(word, i + 1)
    return False


_CACHE: dict[int, _Compiled] = {}


def _group(need: Need) -> _Group:
    scanned = all(w.isidentifier() for w in need.literals)
    words_only = scanned and (
        (need.pattern == words(need.literals) and not need.keyed)
        or (not need.pattern and need.keyed == ((WORD_START, need.literals),)))
    pairs = need.pairs
    if pairs is not None and not all(
        w.isidentifier() for k, v in pairs.items() for w in (k, *v)
    ):
        pairs = None  # the word scan cannot see every word: no pairing test
    return _Group(
        need.literals,
        _no_search if words_only else _searcher(need),
        need.packages,
        frozenset(p for o in need.owned for p in prefixes(o) if p != o),
        scanned,
        words_only,
        pairs,
        frozenset(need.inside),
        frozenset(pairs or ()),
        need.common,
    )


def _no_search(text: str) -> bool:
    return True


def _searcher(need: Need) -> Callable[[str], bool]:
    """The test "``need.pattern`` or one of its keyed words occurs". A keyed alternative of a
    few words joins the pattern's alternation; one of many words (re-exports found in a
    repository can be tens of thousands) is searched for as "``before``, then any word",
    each match looked up in the set: linear in the text, whatever the number of words."""
    small = [need.pattern] if need.pattern else []
    many: list[tuple[re.Pattern[str], frozenset[str]]] = []
    for before, keyed in need.keyed:
        if not keyed:
            continue
        if len(keyed) <= _MANY_WORDS:
            small.append(before + words(keyed).removeprefix(WORD_START))
        else:
            many.append((re.compile(before + r"(\w+)"), keyed))
    pattern = re.compile("|".join(small)) if small else None

    def search(text: str) -> bool:
        if pattern is not None and pattern.search(text) is not None:
            return True
        return any(m.group(1) in keyed for regex, keyed in many for m in regex.finditer(text))

    return search


def _compiled(config: Config) -> _Compiled:
    hit = _CACHE.get(id(config))
    if hit is not None and hit.config is config:
        return hit
    aliases = AliasTable(config.aliases, config.reexports)
    required = {
        id(r): tuple(_group(g) for g in KINDS[r.kind].required_names(r, aliases))
        for r in config.rules
        if r.kind in KINDS
    }
    compiled = _Compiled(config, aliases, required, path_filter(config.paths),
                         tuple((r, path_filter(r.paths)) for r in config.rules),
                         {id(r): _symbol_words(r, aliases) for r in config.rules})
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[id(config)] = compiled
    return compiled


def _symbol_words(rule: Rule, aliases: AliasTable) -> frozenset[str]:
    names = KINDS[rule.kind].named(rule) if rule.kind in KINDS else ()
    out = {last_component(n) for n in names}
    for name in names:
        out.update(last_component(k) for k in aliases.keys_reaching_split(name)[0])
    out.discard("")
    return frozenset(out)


def holds_symbol_word(config: Config, path: str, text: str, present: Words | None = None
                      ) -> bool:
    """``text`` names the last word of a symbol of a rule that applies to ``path`` (or of a
    name that re-exports one): a file that could not be analysed fails the check then
    (docs/behaviour.md §13). Linear in the text and in the number of words."""
    compiled = _compiled(config)
    if not compiled.checked(path):
        return False
    present = present or Words(text)
    return any(present.any_of(compiled.symbol_words[id(r)]) for r in compiled.applying(path))


def failed_closed(config: Config, path: str, text: str, error: FileError) -> FileError:
    """``error``, blocking when ``text`` names a word of a rule of ``path`` (§13)."""
    if error.blocking or not holds_symbol_word(config, path, text):
        return error
    return FileError(error.path, error.message, blocking=True)


def _top_and_module(path: str) -> tuple[str, str | None]:
    """The file's top-level package (the first component of its module) and its module."""
    module = module_of_path(path)
    top = module.partition(".")[0] if module else path.split("/", 1)[0].removesuffix(".py")
    return top, module


def may_match(
    config: Config, rule: Rule, path: str, text: str, present: Words | None = None
) -> bool:
    """Prefilter: False only when ``rule`` cannot match the file (so it need not be parsed).

    ``present``: the words of ``text`` (shared by the rules of one file). Words are found by
    substring search (str.find is several times faster than an alternation pattern, whose
    leading ``\b`` defeats the regex engine's literal prefix scan); ASCII word boundaries may
    see a word where a non-ASCII letter touches it, never miss one.
    """
    compiled = _compiled(config)
    groups = compiled.required.get(id(rule))
    if groups is None:
        return True
    if present is None:
        present = Words(text)
    top, module = _top_and_module(path)
    confirm: list[_Group] = []
    for g in groups:  # set lookups first; a regex only when every word test passed
        if g.exempt(text, top, module, present):
            continue
        if g.scanned and not present.any_of(g.literals):
            return False
        if not g.paired(text, top, present):
            return False
        if not g.words_only:
            confirm.append(g)
    return all(g.search(text) for g in confirm)


def decode(path: str, source: bytes) -> str | FileError:
    """UTF-8 (a BOM is fine, and dropped) or the error that lists the file."""
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        return FileError(path, f"{NOT_UTF8} (byte {exc.start})")
    return text[1:] if text.startswith("\ufeff") else text


def plan(
    path: str, source: bytes, config: Config, *, prefilter: bool = True
) -> tuple[str, tuple[Rule, ...]] | FileResult:
    """Cheap part of the analysis: a finished result, or the text and the rules left to run."""
    planned = plan_words(path, source, config, prefilter=prefilter)
    return planned if isinstance(planned, FileResult) else planned[:2]


def plan_words(
    path: str, source: bytes, config: Config, *, prefilter: bool = True
) -> tuple[str, tuple[Rule, ...], Words | None] | FileResult:
    """:func:`plan`, and the words of the text the pre-filter looked at (None: it did not),
    for :func:`holds_symbol_word` to ask again without listing them again."""
    compiled = _compiled(config)
    if not compiled.checked(path):
        return FileResult(path)
    text = decode(path, source)
    if isinstance(text, FileError):
        lossy = source.decode("utf-8", "replace")
        return FileResult(path, error=failed_closed(config, path, lossy, text))
    rules = compiled.applying(path)
    present = None
    if prefilter and rules:
        present = Words(text)
        rules = tuple(r for r in rules if may_match(config, r, path, text, present))
    if not rules:
        return FileResult(path)
    return text, rules, present


def analyse_source(
    path: str, source: bytes, config: Config, *, prefilter: bool = True, fixes: bool = True
) -> FileResult:
    """Violations of ``config``'s rules in one file (``path`` root-relative, ``/``-separated)."""
    planned = plan(path, source, config, prefilter=prefilter)
    if isinstance(planned, FileResult):
        return planned
    text, rules = planned
    result = analyse_text(path, text, config, rules, gate=prefilter, fixes=fixes)
    if result.error is not None:  # as the pool marks it (§13)
        result = FileResult(path, result.violations, failed_closed(config, path, text,
                                                                   result.error), result.parsed)
    return result


def analyse_text(
    path: str,
    text: str,
    config: Config,
    rules: Sequence[Rule],
    *,
    gate: bool = True,
    tree: ast.Module | None = None,
    fixes: bool = True,
) -> FileResult:
    """``rules`` over ``text``. ``gate``: first drop, with the ast gate, the rules that cannot
    fire (no rule left: no libcst parse). ``tree``: ``text``'s ast when the caller has it
    (it locates violations cheaply; parsed when needed otherwise). ``fixes``: violations of
    rules with ``use`` get their verified fix (:mod:`bot.engine.fix`): a suggestion, or
    ``fixable`` and the file's diff."""
    source = text
    if gate:
        kept, tree, spans, whole = gate_facts(path, text, rules, _compiled(config).aliases,
                                              outline=True)
        if kept is not None:
            if not kept:
                return FileResult(path)
            rules = kept
        if tree is not None:
            # spans: with rules that read only imports, the import statements they flag
            cut = imports_only(text, tree, spans) if _reads_only_imports(rules) else None
            if cut is not None:
                done = _analyse_imports(path, text, cut, config, rules)
                if done is not None:
                    if fixes and done.violations:
                        done = with_fixes(done, text, config, check=analyse_source)
                    return done
            if not whole:  # an import outline: the cut and the positions need the whole tree
                tree = ast_parse(text)
            source = (trim(text, tree, spans) if tree is not None else None) or text
    try:
        module = _parse(source, text)
    except cst.ParserSyntaxError as exc:
        return FileResult(
            path, error=FileError(path, f"does not parse: line {exc.raw_line}: {exc.message}")
        )
    except RecursionError:
        return FileResult(path, error=FileError(path, "too deeply nested to parse"))
    try:
        # with the gate, no tree means that ast cannot parse the text: no need to try again
        violations = _violations(path, text, module, config, rules, tree, parse_ast=not gate)
    except RecursionError:
        return FileResult(path, error=FileError(path, "too deeply nested to analyse"), parsed=True)
    result = FileResult(path, tuple(violations), parsed=True)
    if fixes and violations:
        result = with_fixes(result, text, config, check=analyse_source)
    return result


def _reads_only_imports(rules: Sequence[Rule]) -> bool:
    return all(KINDS[r.kind].reads_only_imports for r in rules if r.kind in KINDS)


def _analyse_imports(
    path: str, text: str, cut: tuple[str, list[int]], config: Config, rules: Sequence[Rule]
) -> FileResult | None:
    """``rules`` (which read only imports) over ``text`` reduced to its imports
    (:func:`bot.engine.trim.imports_only`): the violations found there, moved back to the
    file's lines; None when the reduced text does not parse (the caller parses the file)."""
    reduced, line_of = cut
    try:
        module = cst.parse_module(reduced)
        # the reduced text's own ast places the violations statement by statement
        found = _violations(path, reduced, module, config, rules, ast_parse(reduced),
                            parse_ast=False)
    except (cst.ParserSyntaxError, RecursionError):
        return None
    moved = [replace(v, line=line_of[v.line - 1], end_line=line_of[v.end_line - 1])
             for v in found]
    return FileResult(path, tuple(with_fingerprints(moved, _lines(text))), parsed=True)


def _lines(text: str) -> list[str]:
    return [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]


def _parse(source: str, text: str) -> cst.Module:
    """libcst's tree of ``source`` (``text`` trimmed); of ``text`` itself if ``source`` does
    not parse, so that errors are reported as they are in the file."""
    if source is text:
        return cst.parse_module(text)
    try:
        return cst.parse_module(source)
    except (cst.ParserSyntaxError, RecursionError):
        return cst.parse_module(text)


def _violations(
    path: str,
    text: str,
    module: cst.Module,
    config: Config,
    rules: Sequence[Rule],
    tree: ast.Module | None = None,
    *,
    parse_ast: bool = True,
) -> list[Violation]:
    """``tree``: ``text``'s ast (parsed here when needed, unless not ``parse_ast``)."""
    facts = collect(module, path, _compiled(config).aliases)
    findings: list[Finding] = []
    for rule in rules:
        kind = KINDS.get(rule.kind)
        if kind is not None:
            findings.extend(kind.check(rule, facts))
    if not findings:
        return []
    if tree is None and parse_ast:
        tree = ast_parse(text)
    spans = _spans(module, findings, facts, text, tree)
    lines = _lines(text)

    placed: list[tuple[Finding, Span]] = []
    for f in findings:
        found = [spans[id(n)] for n in f.nodes if id(n) in spans]
        if found:
            placed.append((f, min(found)))

    sup = suppressions(text)
    out: list[Violation] = []
    for f, (l1, c1, l2, c2) in placed:
        if is_suppressed(sup, l1, f.rule.id):
            continue
        out.append(
            Violation(
                rule=f.rule.id,
                kind=f.rule.kind,
                path=path,
                line=l1,
                column=c1 + 1,
                end_line=l2,
                end_column=c2 + 1,
                severity=f.rule.severity,
                message=f.rule.message,
            )
        )
    out.sort(key=lambda v: (v.line, v.column, v.rule))
    return with_fingerprints(out, lines)


def _spans(
    module: cst.Module,
    findings: Sequence[Finding],
    facts: Facts,
    text: str,
    tree: ast.Module | None,
) -> dict[int, Span]:
    """Spans (by node id) of every node the findings need (of several candidates, at least the
    earliest one): code generation of only the statements that hold them
    (:func:`bot.engine.rules.positions.place`), else one partial code generation of the file."""
    outer: list[cst.CSTNode] = []
    choices: list[Sequence[cst.CSTNode]] = []
    inner: dict[int, tuple[cst.BaseExpression, list[cst.CSTNode]]] = {}
    strings: dict[int, tuple[cst.SimpleString, int, bool]] = {}
    for f in findings:
        if f.string is None:
            if len(f.nodes) > 1:
                choices.append(f.nodes)
            else:
                outer.extend(f.nodes)
        else:
            outer.append(f.string.string)
            root = f.string.root
            inner.setdefault(id(root), (root, []))[1].extend(f.nodes)
            for n in f.nodes:
                strings[id(n)] = (f.string.string, f.string.offset, f.string.exact)
    spans = place(module, text, tree, facts, outer, choices)
    if spans is None:
        spans = positions(module, module, [*outer, *(n for c in choices for n in c)])
    for root, nodes in inner.values():
        for key, (l1, c1, l2, c2) in positions(root, module, nodes).items():
            string, offset, exact = strings[key]
            where = spans.get(id(string))
            if where is None:
                continue
            if not exact:
                spans[key] = where
                continue
            sl, sc = where[0], where[1]
            start = (sl, sc + offset + c1) if l1 == 1 else (sl + l1 - 1, c1)
            end = (sl, sc + offset + c2) if l2 == 1 else (sl + l2 - 1, c2)
            spans[key] = (*start, *end)
    return spans

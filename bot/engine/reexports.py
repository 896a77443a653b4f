"""The re-export index of a tree: which module-level names re-export which listed symbols.

docs/behaviour.md §10. A migration leaves shims behind (``pkg/__init__.py`` re-exporting the
legacy class, ``old.py`` doing ``from new.place import Thing``, ``try``/``except`` imports); a
reference that passes through a listed symbol by way of such a shim matches it, without any
``aliases`` entry. Resolution is Python's:

- ``from M import N [as A]`` (at module level, also inside ``if``/``try``/``with``/loops,
  ``TYPE_CHECKING`` included), ``import a.b as c``, and ``A = X.Name`` / ``A = Name``
  assignments (chains of them followed) bind a name to another module's name;
- ``from X import *`` binds X's ``__all__`` when X defines one, else X's names that do not start
  with ``_``;
- a class or function defined in the module under that name is not a re-export;
- only chains that pass **through** a listed symbol count: what the symbol itself points to
  upstream is not listed;
- chains across modules resolve to the end (:meth:`bot.engine.names.AliasTable.expand`), and
  cycles end quietly.

The index is built from cheap reads: the stdlib :mod:`ast`, only for the modules that can matter.
A module is read when its text names one of the *words* (the last components of the symbols,
then of the names found to re-export them) where a re-export could bind it (an import, the
value of an assignment, a module with ``__all__``), or holds a star import; every re-export
found adds its own name to the words (unless it is *module-valued*: bound to a module that
merely holds interesting names, whose references go on to those names' own words); this repeats
until nothing new appears. The words are
what the engine's pre-filter looks for too (:func:`bot.engine.rules.base.needs_for` follows
the index), so a file that imports a renamed re-export is not filtered out.

Pure functions over texts; :func:`build_index` serves ``ssot-bot check`` (every module under
the root) and the App (the modules it fetched, :mod:`bot.usecases.modules`): for the same
tree both find the same re-exports of the names the checked files use.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import Protocol

from bot.config.model import Config
from bot.engine.names import EXACT_ONLY, MAX_DOTS, module_of_path, prefixes, resolve_relative
from bot.engine.rules import referenced_names
from bot.engine.rules.outline import definitions_outline
from bot.engine.rules.syntax import ASCII_WORD, search_word_start
from bot.engine.rules.syntax import ast_dotted as _dotted
from bot.engine.rules.syntax import parse_ast as parse

_COMPOUND = (
    ast.If, ast.Try, ast.TryStar, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While,
)
# no leading ``\b``: a pattern that starts with a literal is searched for fast; the word
# boundary before ``from`` is checked by hand (:func:`~bot.engine.rules.syntax.search_word_start`)
_STAR_FROM = re.compile(r"from[\s\\]+(\.*)[\s\\]*([\w.]*)[\s\\]+import[\s\\]*\*")
_STAR_QUICK = re.compile(r"import[\s\\]*\*")  # a literal first: a fast scan
_END = re.compile(r"[ \t]*(?:[#;\r\n]|\Z)")
# a word where a re-export may bind it: in an import statement (also a parenthesised or
# continued one), or as the value of an assignment (``= x.Word`` / ``= Word``)
_IMPORT_BEFORE = re.compile(r"\bimport\b")
_OPEN_IMPORT = re.compile(r"\bimport[\s\\]*\([^)]*\Z")
_ASSIGN_BEFORE = re.compile(r"=[ \t]*(?:\w+[ \t]*\.[ \t]*)*\Z")


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    """What one module binds at module level that could be a re-export."""

    module: str
    bindings: Mapping[str, tuple[str, ...]]  # local name -> qualified names it is bound to
    defined: frozenset[str]  # class/def names: never re-exports
    stars: tuple[str, ...]  # modules star-imported
    all: tuple[str, ...] | None  # a literal ``__all__``, else None
    imports: tuple[str, ...] = ()  # every module it imports from (for fetching, in the App)

    def exports(self, name: str) -> bool:
        """``from <this module> import *`` binds ``name``."""
        if self.all is not None:
            return name in self.all
        return not name.startswith("_")


def module_info(path: str, text: str, tree: ast.Module | None = None) -> ModuleInfo | None:
    """The re-export facts of the module at ``path`` (None: not a module, or does not parse).

    Without ``tree``, the tree read is the module's with its ``def``/``class`` bodies cut:
    :func:`module_outline`'s line cut (the cheapest), else
    :func:`bot.engine.rules.outline.definitions_outline` (bodies found as the analysis's outline
    finds them, each cut confirmed on the tree), else the whole module. The line cut gives up on
    38 of sympy's 847 modules (a comment after a header's colon, a docstring with lines at
    column 0), which were parsed whole before the second cut: 1.7 s -> 1.4 s of CPU over those
    modules; the second cut first, 0.72 s -> 0.50 s this way (2026-12-06)."""
    module = module_of_path(path)
    if module is None:
        return None
    if tree is None:
        outline = module_outline(text)
        tree = parse(outline) if outline is not None else None
    if tree is None:
        tree = definitions_outline(text) or parse(text)
    if tree is None:
        return None
    return _Reader(path, module).read(tree)



_TOP_DEF = re.compile(r"(?:async[ \t]+def|def|class)\b")


def module_outline(text: str) -> str | None:
    """``text`` with the bodies of its top-level ``def``/``class`` statements cut to ``...``.

    Only module-level bindings make re-exports, and most of a module's bytes are function and
    class bodies: parsing the outline is about 2.5x faster than parsing the module (the index
    parses thousands of modules in a large tree). A body is the run of indented, blank and
    comment lines after the header. None when the cut is not safe — a triple-quoted string
    that would be cut open — and the caller parses the whole text; an outline that does not
    parse (a bracket continued at column 0) is parsed whole too. A ``def`` line inside a
    module-level string only shortens that string, which binds nothing.
    """
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    i, count = 0, len(lines)
    while i < count:
        line = lines[i]
        out.append(line)
        i += 1
        if _TOP_DEF.match(line) is None:
            continue
        # a signature continued over several lines stays whole
        while not line.rstrip().endswith(":") and i < count and lines[i][:1] in (" ", "\t", ")"):
            line = lines[i]
            out.append(line)
            i += 1
        start = i
        while i < count:
            stripped = lines[i].strip()
            if lines[i][:1] in (" ", "\t") or not stripped or stripped.startswith("#"):
                i += 1
                continue
            break
        if i > start:
            body = "".join(lines[start:i])
            if body.count('"""') % 2 or body.count("'''") % 2:
                return None
            out.append("    ...\n")
    return "".join(out)


@dataclass
class _Reader:
    path: str
    module: str
    bindings: dict[str, dict[str, None]] = field(default_factory=dict)  # name -> targets, ordered
    assigns: list[tuple[str, str]] = field(default_factory=list)
    defined: set[str] = field(default_factory=set)
    stars: list[str] = field(default_factory=list)
    all: list[str] | None = None
    all_unknown: bool = False
    imports: list[str] = field(default_factory=list)

    def read(self, tree: ast.Module) -> ModuleInfo:
        self._body(tree.body)
        # ``A = B`` / ``A = x.B``: resolve against the module's own bindings, chains followed
        # (a work list: an assignment is looked at again only when the name it reads gains a
        # binding, so a chain written backwards costs as much as one written forwards)
        readers: dict[str, list[tuple[str, str]]] = {}
        for target, dotted in self.assigns:
            readers.setdefault(dotted.partition(".")[0], []).append((target, dotted))
        todo = list(reversed(self.assigns))
        while todo:
            target, dotted = todo.pop()
            slot = self.bindings.setdefault(target, {})
            grew = False
            for q in self._resolve(dotted):
                if q not in slot and q != f"{self.module}.{target}" and q.count(".") < MAX_DOTS:
                    slot[q] = None
                    grew = True
            if grew:
                todo.extend(readers.get(target, ()))
        bindings = {
            name: tuple(qs) for name, qs in self.bindings.items()
            if qs and name not in self.defined
        }
        names = None if self.all is None or self.all_unknown else tuple(self.all)
        return ModuleInfo(self.module, bindings, frozenset(self.defined), tuple(self.stars),
                          names, tuple(dict.fromkeys(self.imports)))

    def _resolve(self, dotted: str) -> list[str]:
        head, dot, rest = dotted.partition(".")
        if head in self.defined:
            return [f"{self.module}.{dotted}"]
        return [q + dot + rest for q in self.bindings.get(head, ())]

    def _bind(self, name: str, qualified: str) -> None:
        self.bindings.setdefault(name, {})[qualified] = None

    def _body(self, body: Iterable[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                self.defined.add(stmt.name)
            elif isinstance(stmt, ast.ImportFrom):
                base = resolve_relative(self.path, stmt.level or 0, stmt.module)
                if base is None:
                    continue
                self.imports.append(base)
                for alias in stmt.names:
                    if alias.name == "*":
                        self.stars.append(base)
                    else:
                        self.imports.append(f"{base}.{alias.name}")
                        self._bind(alias.asname or alias.name, f"{base}.{alias.name}")
            elif isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    self.imports.append(alias.name)
                    if alias.asname is not None:  # a plain ``import a.b`` binds only ``a``
                        self._bind(alias.asname, alias.name)
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                self._assign(stmt)
            elif isinstance(stmt, ast.AugAssign):
                if _is_all(stmt.target):
                    self._extend_all(stmt.value)
            elif isinstance(stmt, ast.Expr):
                self._all_call(stmt.value)
            elif isinstance(stmt, _COMPOUND):
                for name in ("body", "orelse", "finalbody"):
                    self._body(getattr(stmt, name, ()))
                for handler in getattr(stmt, "handlers", ()):
                    self._body(handler.body)

    def _assign(self, stmt: ast.Assign | ast.AnnAssign) -> None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        value = stmt.value
        for target in targets:
            if _is_all(target):
                self.all = []
                self.all_unknown = False
                self._extend_all(value)
            elif isinstance(target, ast.Name) and value is not None:
                dotted = _dotted(value)
                if dotted is not None:
                    self.assigns.append((target.id, dotted))

    def _extend_all(self, value: ast.expr | None) -> None:
        if self.all is None:
            self.all = []
        if isinstance(value, (ast.List, ast.Tuple)):
            for el in value.elts:
                if isinstance(el, ast.Constant) and isinstance(el.value, str):
                    self.all.append(el.value)
                else:
                    self.all_unknown = True
        else:
            self.all_unknown = True  # computed: every public name may be in it

    def _all_call(self, value: ast.expr) -> None:
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)):
            return
        if not _is_all(value.func.value) or self.all is None:
            return
        if value.func.attr == "extend" and len(value.args) == 1:
            self._extend_all(value.args[0])
        elif value.func.attr == "append" and len(value.args) == 1:
            arg = value.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                self.all.append(arg.value)
            else:
                self.all_unknown = True


def _is_all(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "__all__"


# ------------------------------------------------------------------------------ the index


def symbols_of(config: Config) -> tuple[str, ...]:
    """Every name a rule matches references to (canonical-definition rules have none)."""
    out = dict.fromkeys(referenced_names(config.rules))
    out.update(dict.fromkeys(config.aliases))  # declared re-exports are names too
    return tuple(out)


def module_paths(paths: Iterable[str]) -> dict[str, str]:
    """Module name -> the file that holds it (of several files for one module, the shortest
    path, then the first in order: the one the index reads, in the CLI and in the App)."""
    out: dict[str, str] = {}
    for path in sorted(paths, key=lambda p: (p.count("/"), p)):
        module = module_of_path(path)
        if module is not None and module not in out:
            out[module] = path
    return out


def _words_pattern(words: Iterable[str]) -> re.Pattern[str]:
    alternation = "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))
    return re.compile(rf"\b(?:{alternation or '(?!)'})\b", re.ASCII)


def may_reexport(text: str, words: re.Pattern[str]) -> bool:
    """Cheap test: ``text`` names a word where a re-export could bind it (in an import, or as
    the whole value of an assignment). Star imports are decided apart (:func:`star_sources`)."""
    for m in words.finditer(text):
        start = m.start()
        line = text.rfind("\n", 0, start) + 1
        before = text[line:start]
        if _IMPORT_BEFORE.search(before):
            return True
        if _ASSIGN_BEFORE.search(before) and _END.match(text, m.end()):
            return True
        if before.strip(" \t") == "" or before.rstrip().endswith(","):
            # a line of a parenthesised import, or a continued one
            back = text[max(0, line - 4000):start]
            if _OPEN_IMPORT.search(back) or back.rstrip(" \t\r\n").endswith("\\"):
                return True
    return False


def star_sources(path: str, text: str) -> list[str]:
    """The modules ``text`` star-imports (cheap: a pattern, relative ones resolved)."""
    out: list[str] = []
    if _STAR_QUICK.search(text) is None:
        return out
    pos = 0
    while (m := search_word_start(_STAR_FROM, text, pos)) is not None:
        pos = m.end()
        module = resolve_relative(path, len(m.group(1)), m.group(2) or None)
        if module is not None:
            out.append(module)
    return out


@dataclass
class Index:
    """The re-export index: key (``module.Name``) -> the names it re-exports."""

    entries: dict[str, tuple[str, ...]]
    words: frozenset[str]  # the last components of the symbols and of every key
    modules_read: int  # modules parsed with ast to build it

    def as_config(self, config: Config) -> Config:
        """``config`` with this index, as the engine reads it (``Config.reexports``)."""
        return replace(config, reexports=dict(self.entries))


class _Interesting:
    """The symbols and every key found so far, with lookups for "related to one of them"."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.inner: set[str] = set()  # proper prefixes of the names
        self.children: dict[str, set[str]] = {}  # module -> names directly in it
        self.modules: dict[str, bool] = {}  # key -> every target so far is module-valued

    def add(self, name: str) -> list[tuple[str, str]]:
        """Add ``name``; returns each new (module, child) pair it makes (empty: known)."""
        if name in self.names:
            return []
        self.names.add(name)
        new: list[tuple[str, str]] = []
        for p in prefixes(name):
            if p != name:
                self.inner.add(p)
                below = name[len(p) + 1 :].partition(".")[0]
                children = self.children.setdefault(p, set())
                if below not in children:
                    children.add(below)
                    new.append((p, below))
        return new

    def target(self, key: str, target: str) -> None:
        """Record that ``key`` re-exports ``target`` (a related name)."""
        valued = self.modules.get(target, False) or (
            target in self.inner and not any(p in self.names for p in prefixes(target)))
        if valued:
            self.modules.setdefault(key, True)
        else:
            self.modules[key] = False

    def module_valued(self, key: str) -> bool:
        """Every target of ``key`` is a module that merely holds interesting names (or such a
        key): a reference through ``key`` goes on to one of those names, so it names that name's
        own last word, and ``key``'s last word finds nothing that word does not."""
        return self.modules.get(key, False)

    def related(self, qualified: str) -> bool:
        """``qualified`` is a name, lies inside one, or holds one (a module re-exported)."""
        if qualified in self.inner:
            return True
        return any(p in self.names for p in prefixes(qualified))


# where a re-export may bind a word (a superset of :func:`may_reexport`'s places): an
# ``import (...)`` group, the rest of a line after ``import`` (continued lines too), the word
# that ends an assignment's dotted value, the first word of a line continued by a backslash.
# Each alternative starts with a literal character, so the regex engine skips to the next
# ``i``, ``=`` or backslash in C instead of trying every position (a leading ``\b`` defeats
# that: 12.0 -> 2.4 s over the modules of sympy, Django and the stdlib, the same matches);
# ``i(?<!\wi)mport`` is ``\bimport``, the boundary checked once the ``i`` is read.
_BINDING_PLACES = re.compile(
    r"i(?<!\wi)mport[\s\\]*\(([^)]*)"
    r"|i(?<!\wi)mport\b((?:[^\n\\]|\\[\s\S])*)"
    r"|=[ \t]*(?:\w+[ \t]*\.[ \t]*)*(\w+)[ \t]*(?:[#;\r\n]|\Z)"
    r"|\\\s*(\w+)"
)
_WORD = re.compile(r"\w+")


def binding_words(text: str) -> set[str]:
    """Every word that :func:`may_reexport` could find where a re-export binds it (more, never
    fewer): one pass over the text, so that the index looks a word up instead of searching
    every module again for each word it learns."""
    out: set[str] = set()
    for m in _BINDING_PLACES.finditer(text):
        for group in m.groups():
            if group:
                out.update(ASCII_WORD.findall(group))
                out.update(_WORD.findall(group))
    return out


class ModulesAhead(Protocol):
    """The modules' :func:`module_info` worked out elsewhere (``ssot-bot check``: in its
    worker processes, :class:`bot.workspace.reexports.Ahead`) ahead of the index reading them.
    """

    def ahead(self, paths: Sequence[str]) -> None:
        """The index will read these modules, in this order (some perhaps never)."""

    def get(self, path: str) -> tuple[bool, ModuleInfo | None]:
        """(True, ``path``'s facts) when worked out, waiting for them if need be; (False,
        None) when not (never asked for, or the work failed): the index parses it."""

    def words(self, path: str) -> AbstractSet[str] | None:
        """``path``'s :func:`binding_words`, waiting for them if need be; None when not worked
        out: the index lists them."""


def build_index(sources: Iterable[tuple[str, str]] | Mapping[str, str], config: Config,
                facts: ModulesAhead | None = None) -> Index:
    """The re-export index of the modules in ``sources`` (``(path, text)``, root-relative
    paths, or a mapping path -> text, whose texts are then looked up when needed and never all
    held: a large tree read from disk) for ``config``'s symbols (and its ``aliases``' keys).

    Linear in the texts and in the names found: each module's texts is scanned once for the
    words it may bind (:func:`binding_words`), a module is parsed when a word it binds becomes
    interesting, and each binding is looked at when it is read and again only when a name it
    is related to appears. Chains of any length resolve; cycles end.

    ``facts``: the modules to read are announced to it as they are found, and their facts
    taken from it: the same index, the parsing done elsewhere (``ssot-bot check``: in its
    worker processes, while this process builds the index)."""
    symbols = symbols_of(config)
    if not symbols:
        return Index({}, frozenset(), 0)
    texts = sources if isinstance(sources, Mapping) else dict(sources)
    builder = _Builder(texts, module_paths(texts), symbols, facts)
    builder.run()
    # a key that is also a module of the tree applies to itself only, never as a prefix: a
    # module path in an import names the module (AliasTable, EXACT_ONLY)
    entries = {k: (*v, EXACT_ONLY) if k in builder.modules else tuple(v)
               for k, v in builder.entries.items()}
    return Index(entries, frozenset(builder.words), builder.count)


# up to this many words, the paths that may bind a word are found by a substring scan
_DIRECT_WORDS = 32


class _Builder:
    """The state of one index build: the modules read, the names found, what waits for what."""

    def __init__(self, texts: Mapping[str, str], modules: Mapping[str, str],
                 symbols: Iterable[str], facts: ModulesAhead | None = None) -> None:
        self.texts = texts  # path -> text
        self.facts = facts
        self.modules = modules  # module -> path
        self.pending = dict.fromkeys(modules.values())  # the paths not read yet, in order
        self.parsed: dict[str, ModuleInfo] = {}
        self.count = 0
        self.interesting = _Interesting()
        self.entries: dict[str, list[str]] = {}
        self.words: set[str] = set()
        # word -> pending paths that may bind it: built once the words outgrow _DIRECT_WORDS;
        # until then each word's paths are found by a substring scan (:meth:`_binders`)
        self.by_word: dict[str, list[str]] | None = None
        self.found: dict[str, list[str]] = {}  # a scan's paths for the words waiting in turn
        self.bound: dict[str, AbstractSet[str]] = {}  # path -> binding_words of its text (computed)
        self.by_star: dict[str, list[str]] = {}  # module -> pending paths star-importing it
        for path in self.pending:
            for module in star_sources(path, texts[path]):
                self.by_star.setdefault(module, []).append(path)
        # bindings not related to a name yet: by each prefix of their target, and by target
        self.waiting_inside: dict[str, list[tuple[str, str]]] = {}
        self.waiting_exact: dict[str, list[tuple[str, str]]] = {}
        self.importers: dict[str, list[ModuleInfo]] = {}  # module -> infos star-importing it
        # work left, taken in turn by :meth:`run` (nothing recurses: chains of any length)
        self.todo_names: list[str] = []  # names new: wake the bindings waiting for them
        self.todo_paths: list[str] = []  # modules to read
        self.todo_words: list[str] = []  # words new: read the modules that may bind them
        self.todo_stars: list[tuple[ModuleInfo, str, str]] = []  # (importer, module, child)
        for symbol in symbols:
            self._name(symbol)
            self._word(symbol.rpartition(".")[2])

    def run(self) -> None:
        while True:
            if self.todo_names:
                self._wake(self.todo_names.pop())
            elif self.todo_paths:
                self.read(self.todo_paths.pop())
            elif self.todo_stars:
                self._star_entry(*self.todo_stars.pop())
            elif self.todo_words:
                self._to_read(self._binders(self.todo_words.pop()))
            else:
                return

    def _to_read(self, paths: Sequence[str]) -> None:
        """Read ``paths``, in this order, before what is waiting to be read."""
        if self.facts is not None and paths:
            self.facts.ahead([p for p in paths if p in self.pending])
        self.todo_paths.extend(reversed(paths))

    def _binding_words(self, path: str) -> AbstractSet[str]:
        words = self.bound.get(path)
        if words is None:
            ahead = self.facts.words(path) if self.facts is not None else None
            words = self.bound[path] = (
                ahead if ahead is not None else binding_words(self.texts[path]))
        return words

    def _binders(self, word: str) -> list[str]:
        """The pending paths whose text may bind ``word`` (:func:`binding_words`), in order.

        Few words (a typical configuration: a handful of symbols nobody re-exports): a
        substring scan of the pending texts for the words waiting, and :func:`binding_words`
        only of the texts holding one (every word it finds is a substring of the text). Once
        the words outgrow ``_DIRECT_WORDS`` (a package re-exporting much, an alias bomb), one
        pass builds the word -> paths index and each later word is a look-up: linear in the
        texts either way, and the same paths."""
        if word in self.found:
            return self.found.pop(word)
        if self.by_word is None and len(self.words) <= _DIRECT_WORDS:
            batch = [word, *(w for w in self.todo_words if w not in self.found)]
            hits: dict[str, list[str]] = {w: [] for w in batch}
            for path in self.pending:
                text = self.texts[path]
                inside = [w for w in batch if w in text]
                if inside:
                    bound = self._binding_words(path)
                    for w in inside:
                        if w in bound:
                            hits[w].append(path)
            self.found.update(hits)
            return self.found.pop(word)
        if self.by_word is None:
            self.by_word = {}
            for path in self.pending:
                for w in self._binding_words(path):
                    self.by_word.setdefault(w, []).append(path)
            self.bound.clear()
        return self.by_word.pop(word, [])

    def _word(self, word: str) -> None:
        if word not in self.words:
            self.words.add(word)
            self.todo_words.append(word)

    def _name(self, name: str) -> None:
        if name in self.interesting.names:
            return
        self.todo_names.append(name)
        for module, child in self.interesting.add(name):
            # a star import of ``module`` now binds ``child``: read the modules doing one
            self._to_read(self.by_star.pop(module, ())[::-1])
            self.todo_stars.extend((info, module, child)
                                   for info in self.importers.get(module, ()))

    def _wake(self, name: str) -> None:
        """Bindings waiting for ``name``: targets equal to or inside it, and its modules."""
        found = self.waiting_inside.pop(name, [])
        for p in prefixes(name):
            if p != name:
                found.extend(self.waiting_exact.pop(p, ()))
        for key, target in found:
            self._entry(key, target)

    def _entry(self, key: str, target: str) -> None:
        slot = self.entries.setdefault(key, [])
        if target in slot:
            return
        self.interesting.target(key, target)
        slot.append(target)
        self._name(key)
        if not self.interesting.module_valued(key):
            # a reference through ``key`` names it by its own last word
            self._word(key.rpartition(".")[2])

    def read(self, path: str) -> ModuleInfo | None:
        if path not in self.pending:
            return None
        del self.pending[path]
        self.count += 1
        found, info = self.facts.get(path) if self.facts is not None else (False, None)
        if not found:
            info = module_info(path, self.texts[path])
        if info is not None:
            self.parsed[info.module] = info
            self._bindings(info)
        return info

    def _bindings(self, info: ModuleInfo) -> None:
        for name, targets in info.bindings.items():
            key = f"{info.module}.{name}"
            for t in targets:
                if t == key:
                    continue
                if self.interesting.related(t):
                    self._entry(key, t)
                else:
                    for p in prefixes(t):
                        self.waiting_inside.setdefault(p, []).append((key, t))
                    self.waiting_exact.setdefault(t, []).append((key, t))
        for star in info.stars:
            self.importers.setdefault(star, []).append(info)
            self.todo_stars.extend(
                (info, star, child) for child in self.interesting.children.get(star, ()))

    def _star_entry(self, info: ModuleInfo, star: str, name: str) -> None:
        if name in info.bindings or name in info.defined:
            return
        # a star import binds the source's ``__all__``: read the source first if it is not
        source = self.parsed.get(star)
        if source is None and self.modules.get(star) in self.pending:
            self.read(self.modules[star])
            source = self.parsed.get(star)
        if source is not None and not source.exports(name):
            return
        if source is None and name.startswith("_"):
            return
        key = f"{info.module}.{name}"
        if key != f"{star}.{name}":
            self._entry(key, f"{star}.{name}")

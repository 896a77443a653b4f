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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from bot.config.model import Config
from bot.engine.names import module_of_path, prefixes, resolve_relative
from bot.engine.rules.syntax import ast_dotted as _dotted
from bot.engine.rules.syntax import parse_ast as parse
from bot.engine.rules.syntax import search_word_start

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
_MAX_ROUNDS = 64
_QUICK_WORDS = 32


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
    """The re-export facts of the module at ``path`` (None: not a module, or does not parse)."""
    module = module_of_path(path)
    if module is None:
        return None
    if tree is None:
        outline = module_outline(text)
        tree = parse(outline) if outline is not None else None
        if tree is None:
            tree = parse(text)
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
    bindings: dict[str, list[str]] = field(default_factory=dict)
    assigns: list[tuple[str, str]] = field(default_factory=list)
    defined: set[str] = field(default_factory=set)
    stars: list[str] = field(default_factory=list)
    all: list[str] | None = None
    all_unknown: bool = False
    imports: list[str] = field(default_factory=list)

    def read(self, tree: ast.Module) -> ModuleInfo:
        self._body(tree.body)
        # ``A = B`` / ``A = x.B``: resolve against the module's own bindings, chains followed
        for _ in range(len(self.assigns)):
            changed = False
            for target, dotted in self.assigns:
                for q in self._resolve(dotted):
                    slot = self.bindings.setdefault(target, [])
                    if q not in slot and q != f"{self.module}.{target}":
                        slot.append(q)
                        changed = True
            if not changed:
                break
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
        slot = self.bindings.setdefault(name, [])
        if qualified not in slot:
            slot.append(qualified)

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
    out = dict.fromkeys(
        s for r in config.rules for s in (*r.symbols, *r.legacy, *r.ssot)
    )
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

    def __init__(self, names: Iterable[str]) -> None:
        self.names: set[str] = set()
        self.inner: set[str] = set()  # proper prefixes of the names
        self.children: dict[str, set[str]] = {}  # module -> names directly in it
        self.modules: dict[str, bool] = {}  # key -> every target so far is module-valued
        for n in names:
            self.add(n)

    def add(self, name: str) -> bool:
        if name in self.names:
            return False
        self.names.add(name)
        for p in prefixes(name):
            if p != name:
                self.inner.add(p)
        for p in prefixes(name):
            if p != name:
                below = name[len(p) + 1 :].partition(".")[0]
                self.children.setdefault(p, set()).add(below)
        return True

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


def build_index(sources: Iterable[tuple[str, str]] | Mapping[str, str], config: Config
                ) -> Index:
    """The re-export index of the modules in ``sources`` (``(path, text)``, root-relative
    paths, or a mapping path -> text, whose texts are then looked up each time they are
    scanned and never all held: a large tree read from disk) for ``config``'s symbols (and
    its ``aliases``' keys)."""
    symbols = symbols_of(config)
    if not symbols:
        return Index({}, frozenset(), 0)
    texts = sources if isinstance(sources, Mapping) else dict(sources)
    chosen = module_paths(texts)
    builder = _Builder(texts, chosen)
    interesting = _Interesting(symbols)
    words = {s.rpartition(".")[2] for s in symbols}
    entries: dict[str, list[str]] = {}
    new_words = set(words)
    stars = {
        path: found for path in builder.pending
        if (found := star_sources(path, builder.texts[path]))
    }
    for _ in range(_MAX_ROUNDS):
        pattern = _words_pattern(new_words)
        # ``in`` finds a word far faster than a pattern that starts with ``\b``
        quick = tuple(new_words) if len(new_words) <= _QUICK_WORDS else ()
        scan = bool(new_words)
        new_words = set()
        for path in list(builder.pending) if scan else ():
            text = builder.texts[path]
            if quick and not any(w in text for w in quick):
                continue
            if may_reexport(text, pattern):
                builder.read(path)
        # a star import matters once its module holds an interesting name
        for path, found in list(stars.items()):
            if path not in builder.pending:
                del stars[path]
            elif any(m in interesting.children for m in found):
                builder.read(path)
                del stars[path]
        _close(builder, interesting, entries)
        for key in entries:
            last = key.rpartition(".")[2]
            if last not in words and not interesting.module_valued(key):
                words.add(last)
                new_words.add(last)
        if not new_words and not any(
            any(m in interesting.children for m in found) for found in stars.values()
        ):
            break
    return Index({k: tuple(v) for k, v in entries.items()}, frozenset(words), builder.count)


class _Builder:
    """The modules read so far, and the texts of the others (read on demand)."""

    def __init__(self, texts: Mapping[str, str], modules: Mapping[str, str]) -> None:
        self.texts = texts  # path -> text
        self.pending = dict.fromkeys(modules.values())  # the paths not read yet, in order
        self.modules = modules  # module -> path
        self.parsed: dict[str, ModuleInfo] = {}
        self.count = 0

    def read(self, path: str) -> ModuleInfo | None:
        if path not in self.pending:
            return None
        del self.pending[path]
        text = self.texts[path]
        self.count += 1
        info = module_info(path, text)
        if info is not None:
            self.parsed[info.module] = info
        return info

    def info(self, module: str) -> ModuleInfo | None:
        """A module's facts, read now if it was not (a star import needs its ``__all__``)."""
        hit = self.parsed.get(module)
        if hit is None and module in self.modules:
            hit = self.read(self.modules[module])
        return hit


def _close(
    builder: _Builder, interesting: _Interesting, entries: dict[str, list[str]]
) -> list[str]:
    """Add every re-export of the parsed modules that leads to an interesting name, until
    nothing new appears; returns the new keys."""
    added: list[str] = []

    def entry(key: str, target: str) -> bool:
        slot = entries.setdefault(key, [])
        if target in slot:
            return False
        interesting.target(key, target)
        slot.append(target)
        if interesting.add(key):
            added.append(key)
        return True

    changed = True
    while changed:
        changed = False
        for info in list(builder.parsed.values()):
            for name, targets in info.bindings.items():
                key = f"{info.module}.{name}"
                for t in targets:
                    if t != key and interesting.related(t) and entry(key, t):
                        changed = True
            for star in info.stars:
                children = interesting.children.get(star)
                if not children:
                    continue
                source = builder.info(star)
                for name in list(children):
                    if name in info.bindings or name in info.defined:
                        continue
                    if source is not None and not source.exports(name):
                        continue
                    if source is None and name.startswith("_"):
                        continue
                    key = f"{info.module}.{name}"
                    if key != f"{star}.{name}" and entry(key, f"{star}.{name}"):
                        changed = True
    return added

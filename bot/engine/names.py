"""Per-file name resolution: module paths, relative imports, re-export aliases, bindings.

Pure string functions and one small table (:class:`Bindings`), filled by the shared visitor in
:mod:`bot.engine.rules.facts` while it walks a file. No libcst scope analysis: a local name is
bound only by an import, a star import, or a module-level definition of the file itself.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


def module_parts(path: str) -> list[str]:
    """The components of ``path`` (root-relative, ``/``-separated) below its import root.

    The import root is the repository root, except that the dotted module path starts after
    the last leading folder that is not a valid Python identifier (``examples/netra-apex/``
    holds a project checked from the repository above it: no module can live in
    ``netra-apex``), and a ``src/`` folder right below the import root is dropped (the
    ``src`` layout). Pure string work: no filesystem look-ups.

    ``examples/netra-apex/pkg/mod.py`` -> ``[pkg, mod.py]``; ``src/pkg/mod.py`` ->
    ``[pkg, mod.py]``; ``pkg/mod.py`` -> ``[pkg, mod.py]``.
    """
    parts = [p for p in path.split("/") if p and p != "."]
    start = 0
    for i, part in enumerate(parts[:-1]):
        if not part.isidentifier() or keyword.iskeyword(part):
            start = i + 1
    if len(parts) - start > 1 and parts[start] == "src":
        start += 1
    return parts[start:]


def module_of_path(path: str) -> str | None:
    """``pkg/sub/mod.py`` -> ``pkg.sub.mod``; ``pkg/__init__.py`` -> ``pkg``; else None.

    Components below the import root only (see :func:`module_parts`).
    """
    if not path.endswith(".py"):
        return None
    parts = module_parts(path[:-3])
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) if parts else None


def package_of_path(path: str) -> list[str]:
    """The package a file's relative imports resolve against, as components.

    ``pkg/sub/mod.py`` -> ``[pkg, sub]``; ``pkg/__init__.py`` -> ``[pkg]`` (the package itself).
    Components below the import root only (see :func:`module_parts`).
    """
    return module_parts(path)[:-1]


def resolve_relative(path: str, level: int, module: str | None) -> str | None:
    """Absolute module of ``from <'.' * level><module> import ...`` in the file at ``path``.

    Returns None when the import climbs above the repository root (no error: it matches
    nothing). ``level == 0`` returns ``module`` unchanged.
    """
    if level == 0:
        return module
    package = package_of_path(path)
    up = level - 1
    if up > len(package):
        return None
    base = package[: len(package) - up]
    parts = [*base, *(module.split(".") if module else [])]
    return ".".join(parts) if parts else None


EXACT_ONLY = ""  # a target of Config.reexports marking its key as exact-only (AliasTable)
MAX_DOTS = 64  # components of a name that expansion follows (a self-nesting key stops there)


class AliasTable:
    """Re-exports, applied by prefix: ``Config.aliases`` (re-exported dotted name -> canonical
    dotted name) and the re-export index found in the tree (``Config.reexports``: name -> the
    names it re-exports, several when ``try``/``except`` imports bind it; docs/behaviour.md §10).

    A key whose targets hold :data:`EXACT_ONLY` names a module of the tree too (a package that
    binds a name equal to its submodule's: ``from .conv import conv``): it applies to that very
    name, never as a prefix, since a module path in an import (``from pkg.conv import helper``)
    names the module, never the binding of the same name.
    """

    __slots__ = ("_by_key", "_exact", "_exact_only", "_inner", "_reverse")

    def __init__(
        self,
        aliases: Mapping[str, str],
        reexports: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        by_key: dict[str, tuple[str, ...]] = {k: (v,) for k, v in aliases.items()}
        exact_only: set[str] = set()
        for key, targets in (reexports or {}).items():
            merged = list(by_key.get(key, ()))
            for t in targets:
                if t == EXACT_ONLY:
                    exact_only.add(key)
                elif t not in merged:
                    merged.append(t)
            by_key[key] = tuple(merged)
        self._by_key = by_key
        self._exact_only = frozenset(exact_only)
        # proper prefixes of the keys: a name that may lead to a re-export (a module holding one)
        self._inner = {p for k in by_key for p in prefixes(k) if p != k}
        self._reverse: dict[str, list[str]] | None = None  # target's prefix -> keys
        self._exact: dict[str, list[str]] = {}  # target -> keys

    def __bool__(self) -> bool:
        return bool(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    def keys(self) -> Iterable[str]:
        return self._by_key.keys()

    def expand(self, qualified: str, *, module: bool = False) -> list[str]:
        """``qualified`` plus every name it re-exports, chains followed to the end (a cycle ends
        quietly; a name that would grow forever, a key re-exporting a name inside itself, stops
        at :data:`MAX_DOTS` components): the names a reference passes through. ``module``:
        ``qualified`` is the module path of an import, which no exact-only key rewrites."""
        out = [qualified]
        if not self._by_key:
            return out
        seen = {qualified}
        i = 0
        while i < len(out):
            for target in self._lookup(out[i], module=module and i == 0):
                if target not in seen and target.count(".") < MAX_DOTS:
                    seen.add(target)
                    out.append(target)
            i += 1
        return out

    def leads_to_key(self, qualified: str) -> bool:
        """``qualified`` is a key, lies inside one, or holds one (a module with re-exports)."""
        return qualified in self._inner or bool(self._lookup(qualified))

    def _lookup(self, qualified: str, *, module: bool = False) -> tuple[str, ...]:
        cut = len(qualified)
        while cut > 0:
            key = qualified[:cut]
            hit = self._by_key.get(key)
            if hit is not None and not (
                    key in self._exact_only and (module or cut < len(qualified))):
                rest = qualified[cut:]
                return tuple(t + rest for t in hit) if rest else hit
            cut = qualified.rfind(".", 0, cut)
        return ()

    def keys_reaching(self, symbol: str) -> list[str]:
        """Keys through which ``symbol`` (or its module, or a member of it) can be named: keys
        whose target is related to the symbol or to such a key (chains followed)."""
        named, modules = self.keys_reaching_split(symbol)
        return [*named, *modules]

    def keys_reaching_split(self, symbol: str) -> tuple[list[str], list[str]]:
        """:meth:`keys_reaching`, split: keys that name ``symbol`` or a name re-exporting it,
        and *module-valued* keys (bound to a module that holds such a name, or to another
        module-valued key). A reference through a module-valued key goes on to a name of the
        first list (``key.Name``), so it holds that name's last word, not the key's."""
        if not self._by_key:
            return [], []
        if self._reverse is None:
            reverse: dict[str, list[str]] = {}
            exact: dict[str, list[str]] = {}
            for key, targets in self._by_key.items():
                for t in targets:
                    exact.setdefault(t, []).append(key)
                    for p in prefixes(t):
                        reverse.setdefault(p, []).append(key)
            self._reverse, self._exact = reverse, exact
        reverse, exact = self._reverse, self._exact
        named: list[str] = []
        modules: list[str] = []
        seen = {symbol}
        todo = [(symbol, False)]
        # each name is taken once, and each key found through the prefixes of a name taken:
        # linear in the keys and the length of their names (look-ups, never rescans)
        while todo:
            name, module = todo.pop()
            # targets equal to or inside ``name`` (the same kind as ``name`` when equal), and
            # targets that are modules holding it (module-valued)
            inside = exact.get(name, ()) if name in self._exact_only else reverse.get(name, ())
            related = [(k, module and name in self._by_key[k]) for k in inside]
            related.extend((k, True) for p in prefixes(name) if p != name
                           for k in exact.get(p, ()))
            for key, valued in related:
                if key not in seen:
                    seen.add(key)
                    (modules if valued else named).append(key)
                    todo.append((key, valued))
        return named, modules


@dataclass(slots=True)
class Bindings:
    """Local name -> qualified names it may stand for, plus star-imported modules.

    ``stars_always``: resolve through star imports even when the name is bound (a superset of
    the real resolution, for the ast gate of :mod:`bot.engine.rules.gate`).
    """

    names: dict[str, set[str]] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)
    stars_always: bool = False

    def bind(self, local: str, qualified: str) -> None:
        self.names.setdefault(local, set()).add(qualified)

    def resolve(self, dotted: str, aliases: AliasTable) -> list[str]:
        """Every qualified name ``dotted`` (``a.b.C`` as written in the file) may denote.

        Unbound heads resolve only through star imports; an empty list means "matches nothing".
        """
        head, dot, rest = dotted.partition(".")
        found: list[str] = []
        bound = self.names.get(head)
        if bound:
            found.extend(q + dot + rest for q in bound)
        if self.stars and (not bound or self.stars_always):
            found.extend(star + "." + dotted for star in self.stars)
        if not found or not aliases:
            return found
        out: list[str] = []
        for q in found:
            out.extend(aliases.expand(q))
        return out


def matches_symbol(qualified: str, symbol: str) -> bool:
    """``qualified`` is ``symbol`` or lies inside it (a member of a listed module or class)."""
    return qualified == symbol or qualified.startswith(symbol + ".")


def last_component(dotted: str) -> str:
    return dotted.rpartition(".")[2]


def prefixes(dotted: str) -> Iterable[str]:
    """``a.b.c`` -> ``a.b.c``, ``a.b``, ``a`` (longest first)."""
    cut = len(dotted)
    while cut > 0:
        yield dotted[:cut]
        cut = dotted.rfind(".", 0, cut)

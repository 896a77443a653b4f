"""What every rule kind is: a small class with examples, a prefilter and a check over facts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, cast

import libcst as cst

from bot.config.keys import Key, KindSpec
from bot.config.model import Rule
from bot.engine.names import AliasTable, last_component, matches_symbol, prefixes
from bot.engine.rules.facts import Facts, Ref, StringAnnotation

FixSite = Literal["import", "call", "name"]


@dataclass(frozen=True, slots=True)
class Example:
    """Code that a rule kind must flag (INVALID) or must leave alone (VALID).

    ``lines``: for INVALID examples, the lines the violations are expected on (in order).
    """

    code: str
    rule: Rule
    path: str = "app/module.py"
    aliases: Mapping[str, str] = field(default_factory=dict)
    lines: tuple[int, ...] = ()
    # other modules of the tree (path -> code): shims the re-export index reads (behaviour §10)
    modules: Mapping[str, str] = field(default_factory=dict)


# Shims of the legacy WebSocketManager, for the examples of every kind (docs/behaviour.md §10).
WS_MODULE = "netra_backend.app.websocket_core.websocket_manager"
WS_FILE = "netra_backend/app/websocket_core/websocket_manager.py"
CORE_INIT = "netra_backend/app/websocket_core/__init__.py"
SHIMS: Mapping[str, Mapping[str, str]] = {
    # the package's __init__ re-exports it
    "init": {CORE_INIT: "from .websocket_manager import WebSocketManager\n"},
    # an old module re-exports it under another name, inside a compatibility try/except
    "renamed": {
        "legacy/compat.py": "try:\n    from new.place import Manager as WSM\n"
        f"except ImportError:\n    from {WS_MODULE} import WebSocketManager as WSM\n",
    },
    # under TYPE_CHECKING, then assignment chains
    "assigned": {
        "legacy/types.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from netra_backend.app.websocket_core import websocket_manager as wm\n"
        "Legacy = wm.WebSocketManager\nOldManager = Legacy\n",
    },
    # star imports honouring __all__, chained across modules
    "star": {
        "legacy/__init__.py": "from .inner import *\n",
        "legacy/inner.py": f"from {WS_MODULE} import *\n__all__ = ['WebSocketManager']\n",
        WS_FILE: "__all__ = ['WebSocketManager']\nclass WebSocketManager: ...\n",
    },
    # negatives: a definition under the name; a star import whose __all__ leaves it out;
    # a cycle; what the banned name itself points to
    "defined": {
        "legacy/own.py": f"from {WS_MODULE} import WebSocketManager as W\n"
        "class WebSocketManager: ...\n",
    },
    "hidden": {
        "legacy/hidden.py": f"from {WS_MODULE} import *\n",
        WS_FILE: "__all__ = ['Other']\nclass WebSocketManager: ...\nclass Other: ...\n",
    },
    "cycle": {
        "legacy/a.py": "from legacy.b import WebSocketManager\n",
        "legacy/b.py": "from legacy.a import WebSocketManager\n",
    },
    "upstream": {
        WS_FILE: "from netra_backend.app.core.manager import Manager as WebSocketManager\n",
    },
    # a package binding a name equal to its submodule's: ``pkg.conv`` is the function only
    # where it is imported as a name, never as the module path of an import
    "conv": {
        "pkg/__init__.py": "from .conv import conv, Other\n",
        "pkg/conv.py": "def conv(): ...\nclass Other: ...\ndef helper(): ...\n",
    },
}


@dataclass(slots=True)
class Finding:
    """A violation before positions are known. ``nodes``: candidates, the earliest one is used."""

    rule: Rule
    nodes: Sequence[cst.CSTNode]
    string: StringAnnotation | None = None


class RuleKind:
    """One kind of SSOT rule (``banned-import``...): one file ``rules/<kind>.py`` holds it all.

    A subclass declares its ``kind`` name, a one-line ``summary`` of what it flags, its
    configuration ``keys`` (:class:`~bot.config.keys.Key`: type, required, description), its
    docs (the class docstring, Markdown; ``fix_doc``) and VALID/INVALID examples (which are its
    tests).
    ``scripts/generate_kinds.py`` derives the configuration model, the JSON Schema, the
    ``config/ssot.yml`` table and ``docs/rules.md`` from them (docs/adding-a-rule-kind.md).
    """

    kind: ClassVar[str]
    summary: ClassVar[str]
    keys: ClassVar[tuple[Key, ...]]
    # how ``ssot-bot fix`` fixes it (docs/rules.md); "" for no automatic fix
    fix_doc: ClassVar[str] = ""
    # what the fix engine (bot/engine/fix.py) rewrites for a rule of this kind with ``use``:
    # the import statement, the callee of the call, or the referenced name; None: no fix
    fix_site: ClassVar[FixSite | None] = None
    VALID: ClassVar[tuple[Example, ...]] = ()
    INVALID: ClassVar[tuple[Example, ...]] = ()
    # matches references inside string annotations (which the ast gate does not parse)
    reads_string_annotations: ClassVar[bool] = False
    # reads only the file's import statements (``facts.imports``): libcst may parse the file
    # reduced to them (bot.engine.trim.imports_only)
    reads_only_imports: ClassVar[bool] = False

    def referenced(self, rule: Rule) -> tuple[str, ...]:
        """The names ``rule`` matches references to: the values of the kind's ``names`` keys
        (the pre-filter, the ast gate and the re-export index follow these)."""
        return tuple(name for key in self.keys if key.type == "names"
                     for name in getattr(rule, key.attribute))

    def named(self, rule: Rule) -> tuple[str, ...]:
        """Every name ``rule`` is about: :meth:`referenced` and the names its ``name-paths``
        keys define (a file naming one of their words fails closed, §13)."""
        return self.referenced(rule) + tuple(
            name for key in self.keys if key.type == "name-paths"
            for name in getattr(rule, key.attribute))

    def required_names(self, rule: Rule, aliases: AliasTable) -> tuple[Need, ...]:
        """Prefilter: the rule can only match text holding a word of each :class:`Need`
        (by default one: a word of :meth:`referenced`)."""
        return needs_for(self.referenced(rule), aliases)

    def check(self, rule: Rule, facts: Facts) -> list[Finding]:
        raise NotImplementedError

    @classmethod
    def spec(cls) -> KindSpec:
        return KindSpec(cls.kind, cls.summary, cls.keys)


@dataclass(frozen=True, slots=True)
class Need:
    """Prefilter: a file can only match when ``pattern`` occurs in its text, or a match of
    one of the ``keyed`` regexes followed by one of its words (as a whole word).

    ``literals``: one of them occurs in every text ``pattern`` matches (a cheap first test).
    Needed nothing: a file inside one of the top-level ``packages`` that has a relative import,
    and a file whose own module holds one of the ``owned`` names (its definitions are them).
    """

    literals: frozenset[str]
    pattern: str
    packages: frozenset[str] = frozenset()
    owned: frozenset[str] = frozenset()
    # last component -> the top-level packages of the names ending in it: a file must name one
    # such pair (or import relatively inside that package), not any last word and any package
    pairs: Mapping[str, frozenset[str]] | None = None
    # needed nothing either: a file with a relative import that lies inside one of these names
    # (``from . import x`` inside a listed module names neither it nor its last component)
    inside: frozenset[str] = frozenset()
    # (regex, words): also matches where ``regex`` is followed by one of ``words``; kept apart
    # from ``pattern`` so that a need of tens of thousands of words costs no giant alternation
    keyed: tuple[tuple[str, frozenset[str]], ...] = ()
    # top-level packages that pair with every last word of ``pairs``
    common: frozenset[str] = frozenset()


WORD_START = r"(?<!\w)"


SYMBOLS_KEY = Key("symbols", "names", "banned symbols (or modules): package.module.Name",
                  required=True)
USE_KEY = Key("use", "name", "what to use instead (package.module.Name); enables the automatic "
              "fix (ssot-bot fix) and suggestions")


def words(names: Iterable[str]) -> str:
    """Regex: one of ``names`` as a whole word."""
    alternation = "|".join(re.escape(n) for n in sorted(names)) or "(?!)"
    return rf"{WORD_START}(?:{alternation})(?!\w)"


def needs_for(symbols: Sequence[str], aliases: AliasTable) -> tuple[Need, ...]:
    """What the text of a file that references one of ``symbols`` must hold.

    A reference to ``pkg.mod.Name`` either accesses it as an attribute (``.Name``), or imports
    it from its package (``from pkg...``, also for star imports), or is the one-word module
    itself; and the file names ``pkg`` somewhere. Re-exports count with their own names.
    """
    lasts: set[str] = set()
    heads: set[str] = set()
    single: set[str] = set()
    pairs: dict[str, set[str]] = {}
    found = [aliases.keys_reaching_split(s) for s in symbols]
    names = (*symbols, *(k for named, _ in found for k in named))
    modules = tuple(k for _, valued in found for k in valued)
    for name in names:
        lasts.add(last_component(name))
        heads.add(name.partition(".")[0])
        pairs.setdefault(last_component(name), set()).add(name.partition(".")[0])
        if "." not in name:
            single.add(name)
    # a module-valued key is named by its package and followed by one of the last words above
    # (``from pkg import mod_alias`` ... ``mod_alias.Name``): its package pairs with every one
    common = frozenset(key.partition(".")[0] for key in modules) - {""}
    heads |= common
    names = (*names, *modules)
    lasts.discard("")
    heads.discard("")
    # a reference: an attribute ``.Name``, ``from pkg``, or the one-word name itself
    reference = (
        (r"\.[\s\\]*", frozenset(lasts)),
        (r"(?<!\w)from[\s\\]+", frozenset(heads)),
        (WORD_START, frozenset(single)),
    )
    # a re-export's own module names it in its import: only a symbol's module is exempt
    owned = frozenset(symbols)
    paired = {k: frozenset(v) for k, v in pairs.items()}
    return (
        Need(frozenset(lasts), "", frozenset(heads), owned, paired, frozenset(names),
             keyed=reference, common=common),
        Need(frozenset(heads), "", frozenset(heads), owned, paired,
             keyed=((WORD_START, frozenset(heads)),), common=common),
    )


def symbol_hit(qualified: str, symbols: Sequence[str]) -> str | None:
    """The listed symbol ``qualified`` is or lies in (the longest one), else None."""
    best: str | None = None
    for s in symbols:
        if matches_symbol(qualified, s) and (best is None or len(s) > len(best)):
            best = s
    return best


def ref_hit(
    facts: Facts, ref: Ref, symbols: Sequence[str]
) -> tuple[cst.BaseExpression, str] | None:
    """The node of ``ref``'s chain that names a listed symbol, and that symbol."""
    if not ref.dotted:
        return None
    for qualified in facts.resolve(ref):
        symbol = symbol_hit(qualified, symbols)
        if symbol is not None:
            extra = qualified.count(".") - symbol.count(".")
            node = ref.node
            for _ in range(min(extra, ref.dotted.count("."))):
                node = cast(cst.Attribute, node).value  # (an ast.Attribute in the ast gate)
            return node, symbol
    return None


def split_use(use: str | None) -> tuple[str, str] | None:
    if not use or "." not in use:
        return None
    module, _, name = use.rpartition(".")
    return module, name


__all__ = [
    "Example",
    "Finding",
    "RuleKind",
    "prefixes",
    "ref_hit",
    "split_use",
    "symbol_hit",
]

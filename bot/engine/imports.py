"""What a Python file imports and which names it may use, for the App's re-export planning
(bot.usecases.modules, docs/behaviour.md §10).

Module-level functions over text, so that the planning can run them in the engine's worker
processes: ``ast.parse`` holds the GIL for a whole file (1.4 s for a file of 0.8 MB), which in
the service's own process stops its event loop for as long.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from bot.config.model import Config
from bot.engine.names import resolve_relative
from bot.engine.reexports import ModuleInfo, binding_words, build_index, module_info
from bot.engine.rules.syntax import parse_ast

_WORD = re.compile(r"[A-Za-z_]\w*")
_BLOCKS = (ast.stmt, ast.excepthandler, ast.match_case)


def _statements(tree: ast.Module) -> Iterator[ast.AST]:
    """The nodes of ``ast.walk(tree)`` that are statements (or ``except``/``case`` clauses, which
    hold statements), in the same order, without visiting any expression: imports are
    statements, and walking every expression node was 4x the work (a third of the re-export
    planning of a 300-file PR)."""
    todo: deque[ast.AST] = deque([tree])
    while todo:
        node = todo.popleft()
        todo.extend(c for c in ast.iter_child_nodes(node) if isinstance(c, _BLOCKS))
        yield node


def used_words(text: str) -> set[str]:
    """Every identifier-like word of ``text`` (the names it may use)."""
    return set(_WORD.findall(text))


def imported_names(path: str, text: str) -> tuple[list[str], set[str]]:
    """Every name the file imports (any depth: ``from X import N`` -> ``X.N``, ``import X`` and
    star imports -> ``X``), and every identifier in its text (the names it may use)."""
    tree = parse_ast(text)
    names: list[str] = []
    if tree is not None:
        for node in _statements(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names.extend(import_names(path, node))
    return names, used_words(text)


def import_names(path: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """What one import statement of the file at ``path`` imports, as :func:`imported_names`
    lists it (a relative import that leaves the root: nothing)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = resolve_relative(path, node.level or 0, node.module)
    if base is None:
        return []
    return [base, *(f"{base}.{a.name}" for a in node.names if a.name != "*")]


@dataclass(frozen=True, slots=True)
class FileScan:
    """One checked file for the planning: what it imports, the words it uses, and its own
    re-export facts (None: not a module, or it does not parse)."""

    names: list[str]
    words: set[str]
    info: ModuleInfo | None
    size: int = 0  # roughly the memory it holds, in bytes (measured where it was made)


def scan_file(path: str, text: str) -> FileScan:
    names, words = imported_names(path, text)
    # sized here, in the worker: summing a hostile file's 30,000 words took the loop 0.1 s
    size = 200 + sum(len(w) + 60 for w in words) + sum(len(n) + 60 for n in names)
    return FileScan(names, words, module_info(path, text), size)


def scan_files(items: list[tuple[str, str]]) -> list[FileScan]:
    """:func:`scan_file` of each ``(path, text)``: one task of a worker process."""
    return [scan_file(path, text) for path, text in items]


def module_facts(items: list[tuple[str, str]]) -> list[ModuleInfo | None]:
    """:func:`bot.engine.reexports.module_info` of each ``(path, text)``: a worker's task."""
    return [module_info(path, text) for path, text in items]


def binding_words_of(items: list[tuple[str, str]]) -> list[frozenset[str]]:
    """:func:`bot.engine.reexports.binding_words` of each ``(path, text)``: a worker's task."""
    return [frozenset(binding_words(text)) for _, text in items]


def reexport_entries(sources: list[tuple[str, str]], config: Config
                     ) -> dict[str, tuple[str, ...]]:
    """The re-export index of ``sources`` for ``config`` (a worker's task: it parses)."""
    return build_index(sources, config).entries

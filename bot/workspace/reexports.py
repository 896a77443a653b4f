"""The re-exports over a whole local tree (docs/behaviour.md §10)."""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config.model import Config
from bot.workspace.files import Inputs, read_at_most, walk

if TYPE_CHECKING:
    from bot.engine.pool import EnginePool
    from bot.engine.reexports import ModuleInfo

# a worker's task: modules until this many bytes, or this many modules
_CHUNK_BYTES = 128 * 1024
_CHUNK_FILES = 16
# the binding words' tasks (a pattern over the text, no parse): this many bytes or modules
_WORDS_BYTES = 1024 * 1024
_WORDS_FILES = 1024


def with_reexports(root: Path, config: Config, pool: EnginePool | None = None,
                   inputs: Inputs | None = None) -> Config:
    """``config`` with the re-exports found in every module under ``root``, checked or not
    (docs/behaviour.md §10). ``pool``: its workers parse the modules the index reads while
    this process builds it (:class:`Ahead`); without, this process parses them. ``inputs``:
    the files a command checks: the tree as :func:`bot.workspace.files.collect` walked it,
    when it did, and what is read here of those files is kept for the analysis
    (``inputs.contents``), which then reads nothing again. A module over
    ``limits.max_file_bytes`` is never read past the limit and re-exports nothing, as in the
    App (:mod:`bot.usecases.modules`); the analysis lists it (§13)."""
    from bot.engine.reexports import build_index, symbols_of

    if not symbols_of(config):
        return config
    root_abs = os.path.abspath(root)
    listing = inputs.listing if inputs is not None else None
    checked = {rel for rel, _ in inputs.files} if inputs is not None else set()
    limit = config.limits.max_file_bytes
    sources: dict[str, str] = {}
    for entry in listing if listing is not None else walk(root_abs, root_abs):
        if not entry.rel.endswith(".py"):
            continue
        try:
            data, size = read_at_most(entry.on_disk, limit)
        except OSError:
            continue  # a file that cannot be read re-exports nothing
        if size > limit:
            continue  # re-exports nothing, as in the App; the analysis reports it (§13)
        if inputs is not None and entry.rel in checked:
            inputs.contents[entry.rel] = data
        try:
            sources[entry.rel] = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            continue
    if pool is None:
        return build_index(sources, config).as_config(config)
    ahead = Ahead(pool, sources, config.file_time_budget)
    try:
        return build_index(sources, config, facts=ahead).as_config(config)
    finally:
        ahead.cancel()


class Ahead:
    """The modules the index is about to read, parsed in the pool's workers
    (:func:`bot.engine.imports.module_facts`, a few modules a task, in the order the index
    will read them) while the index goes on in this process, which waits only for a module
    not parsed yet (:class:`bot.engine.reexports.ModulesAhead`); and every module's binding
    words (:func:`bot.engine.imports.binding_words_of`, 1 MB of text a task), which the index
    looks up in the order it scans the modules (0.35-0.45 s of this process's time on Django
    and on sympy otherwise; with the forkserver started before ``ssot-bot check`` imports the
    engine, the workers are ready when the index asks).

    Measured on sympy (the index reads 1,046 of 1,562 modules; 2 workers, 2026-12-06): the
    index took 2.2-2.7 s parsing in this process, 1.6-1.8 s so (the workers start meanwhile
    too, for the analysis). Only the modules the index asks for are parsed: parsing every
    module ahead gave Django's index (435 of 2,788 modules read) no gain. A task that fails
    (past its budget, its worker died) gives nothing: the index parses its modules itself,
    as without a pool."""

    def __init__(self, pool: EnginePool, sources: dict[str, str], budget: float) -> None:
        from bot.engine.imports import binding_words_of
        from bot.engine.reexports import module_paths

        self._pool = pool
        self._sources = sources
        self._budget = budget
        self._futures: list[concurrent.futures.Future[Any]] = []
        self._facts: dict[str, tuple[concurrent.futures.Future[Any], int]] = {}
        self._words: dict[str, tuple[concurrent.futures.Future[Any], int]] = {}
        # every module's binding words, in the order the index scans the modules
        self._send(binding_words_of, module_paths(sources).values(), self._words,
                   _WORDS_BYTES, _WORDS_FILES)

    def ahead(self, paths: Sequence[str]) -> None:
        from bot.engine.imports import module_facts

        self._send(module_facts, paths, self._facts, _CHUNK_BYTES, _CHUNK_FILES)

    def get(self, path: str) -> tuple[bool, ModuleInfo | None]:
        return _taken(self._facts, path)

    def words(self, path: str) -> frozenset[str] | None:
        found, words = _taken(self._words, path)
        return words if found else None

    def _send(self, fn: Callable[[list[tuple[str, str]]], list[Any]], paths: Iterable[str],
              where: dict[str, tuple[concurrent.futures.Future[Any], int]],
              max_bytes: int, max_files: int) -> None:
        """``fn`` over the modules of ``paths`` not sent to it yet, a few a task, in order;
        where each module's answer will be, in ``where``."""
        chunk: list[tuple[str, str]] = []
        size = 0
        for path in dict.fromkeys(paths):
            if path in where:
                continue
            chunk.append((path, self._sources[path]))
            size += len(chunk[-1][1])
            if size >= max_bytes or len(chunk) >= max_files:
                self._submit(fn, chunk, where)
                chunk, size = [], 0
        if chunk:
            self._submit(fn, chunk, where)

    def _submit(self, fn: Callable[[list[tuple[str, str]]], list[Any]],
                chunk: list[tuple[str, str]],
                where: dict[str, tuple[concurrent.futures.Future[Any], int]]) -> None:
        future = self._pool.submit(fn, chunk, timeout=self._budget * len(chunk))
        self._futures.append(future)
        where.update((path, (future, n)) for n, (path, _) in enumerate(chunk))

    def cancel(self) -> None:
        """Drop the tasks the index did not need and no worker has started (stopping a
        running one would stop its worker, which the analysis needs next)."""
        self._pool.cancel_waiting(self._futures)


def _taken(where: dict[str, tuple[concurrent.futures.Future[Any], int]], path: str
           ) -> tuple[bool, Any]:
    """(True, ``path``'s answer), waiting for its task; (False, None) when it was never sent
    or its task failed (past its budget, its worker died): the index does that work itself."""
    at = where.get(path)
    if at is None:
        return False, None
    future, n = at
    try:
        return True, future.result()[n]
    except Exception:
        return False, None

"""Re-exports for the App: the modules a PR's checked files import from, read at its head.

docs/behaviour.md §10. ``ssot-bot check`` reads every module of the tree it is given; the App
cannot, so it reads only what the index can need: the repository's file list once per analysis
(one Git Trees request, shared with the rest of the analysis), then the first-party modules the
checked files import from, and from those only the modules their bindings of the names used
lead to (each module at most once per analysis), the modules of one round read together (one
GraphQL query per 50). Module texts are cached by blob sha across analyses in bounded memory
(:class:`BlobCache`, an LRU by bytes), per installation (docs/behaviour.md §13: nothing read
through one installation is seen by another), so a second analysis of the same head costs the
tree request alone. The number of modules read is bounded by ``limits.max_module_fetches`` and
reported in the check run's summary.

The index itself is :func:`bot.engine.reexports.build_index`, the one ``ssot-bot check`` uses,
over the checked files and the modules fetched: for the same tree both report the same
violations. Fetches are awaited on the event loop; every parse (the checked files' scans, the
modules' facts, the index) runs in the engine's worker processes under the time budgets
(docs/behaviour.md §13): the service process keeps only bytes and results. Modules count
against ``limits.max_total_bytes`` together with the checked files.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cachetools import LRUCache

from bot.config.model import Config
from bot.engine.imports import (
    FileScan,
    module_facts,
    reexport_entries,
    scan_files,
    used_words,
)
from bot.engine.names import matches_symbol, prefixes
from bot.engine.reexports import ModuleInfo, module_paths, symbols_of
from bot.github.client import Tree

DEFAULT_CACHE_BYTES = 64 * 1024 * 1024  # module and checked-file texts of every installation
_ALL = "*"  # every name the checked files use


class BlobCache:
    """Module texts by blob sha, least recently used out first once ``capacity`` bytes are
    held. Thread-safe (filled on the loop, read in threads)."""

    def __init__(self, capacity: int = DEFAULT_CACHE_BYTES) -> None:
        self.capacity = capacity
        self._items: LRUCache[str, tuple[str, int]] = LRUCache(
            capacity, getsizeof=lambda item: item[1])
        self._lock = threading.Lock()
        # checked files' planning scans by path and blob sha (a 300-file PR's scans cost
        # seconds of worker time; a push that changed two files needs two)
        self.scans: LRUCache[str, FileScan] = LRUCache(capacity // 2, getsizeof=_scan_size)

    @property
    def size(self) -> int:
        """Bytes held."""
        return int(self._items.currsize)

    def get(self, sha: str) -> str | None:
        with self._lock:
            item = self._items.get(sha)
        return None if item is None else item[0]

    def put(self, sha: str, text: str, size: int) -> None:
        if size > self.capacity:
            return
        with self._lock:
            if self._items.get(sha) is None:  # a hit counts as a use
                self._items[sha] = (text, size)

    def __len__(self) -> int:
        return len(self._items)

    def drop(self, scope: int | str) -> None:
        """Forget every entry of one installation (it was uninstalled)."""
        prefix = f"{scope}:"
        with self._lock:
            for key in [k for k in list(self._items) if k.startswith(prefix)]:
                self._items.pop(key, None)
            for key in [k for k in list(self.scans) if k.startswith(prefix)]:
                self.scans.pop(key, None)

    def scoped(self, scope: int | str) -> ScopedCache:
        """The part of this cache one installation sees (its own entries only)."""
        return ScopedCache(self, str(scope))


def _scan_size(scan: FileScan) -> int:
    """Roughly the memory a scan holds (:func:`bot.engine.imports.scan_file` measured it)."""
    return scan.size


class ScopedCache:
    """One installation's view of a :class:`BlobCache`: the same bound in bytes for all, but
    keys of its own, so a text read through one installation never answers another's."""

    def __init__(self, cache: BlobCache, scope: str) -> None:
        self._cache = cache
        self._scope = scope

    def get(self, sha: str) -> str | None:
        return self._cache.get(f"{self._scope}:{sha}")

    def put(self, sha: str, text: str, size: int) -> None:
        self._cache.put(f"{self._scope}:{sha}", text, size)

    def scan(self, path: str, sha: str) -> FileScan | None:
        with self._cache._lock:
            return self._cache.scans.get(f"{self._scope}:{sha}:{path}")

    def put_scan(self, path: str, sha: str, scan: FileScan) -> None:
        with self._cache._lock, contextlib.suppress(ValueError):  # larger than the whole
            self._cache.scans[f"{self._scope}:{sha}:{path}"] = scan


@dataclass
class ModuleReads:
    """What reading the modules for the index cost and found."""

    fetched: int = 0  # modules read from GitHub (in GraphQL batches; the tree not included)
    cached: int = 0  # modules read from the cache instead
    skipped: int = 0  # modules not read: past limits.max_module_fetches, too large, not UTF-8
    limited: bool = False  # the limit stopped the reading
    over_total: int = 0  # modules not read: past limits.max_total_bytes
    failed: str | None = None  # why the index could not be built (None: it was)
    modules: dict[str, str] = field(default_factory=dict)  # path -> text

    def summary(self) -> str:
        """The line for the check run's summary."""
        text = (
            f"Re-exports: {self.fetched} module{'' if self.fetched == 1 else 's'} read "
            f"({self.cached} from cache)."
        )
        if self.limited:
            text += (
                f" {self.skipped} more module{'' if self.skipped == 1 else 's'} not read: "
                "past `limits.max_module_fetches`."
            )
        if self.over_total:
            text += (
                f" {self.over_total} module{'' if self.over_total == 1 else 's'} not read: "
                "past `limits.max_total_bytes` (checked files and modules together)."
            )
        if self.failed:
            text += f" The re-export index could not be built: {self.failed}."
        return text


class _Planner:
    """Which modules to read: demands (module -> names, or every used name) followed through
    the bindings of the modules read, as far as they lead inside the tree."""

    def __init__(
        self, modules: Mapping[str, str], used: set[str], symbols: Sequence[str]
    ) -> None:
        self.modules = modules  # module -> path in the tree
        self.used = used
        self.symbols = symbols
        self.demand: dict[str, set[str]] = {}
        self.done: dict[str, set[str]] = {}
        self.infos: dict[str, ModuleInfo] = {}

    def want(self, qualified: str, *, star: bool = False) -> None:
        """``qualified`` may be reached: read the module that binds it. Not needed for a listed
        symbol named explicitly: what it points to upstream is not listed (a name that comes
        through a star import needs its module's ``__all__``)."""
        if not star and any(matches_symbol(qualified, s) for s in self.symbols):
            return
        for p in prefixes(qualified):
            if p in self.modules:
                rest = qualified[len(p) + 1 :].partition(".")[0]
                self.demand.setdefault(p, set()).add(rest or _ALL)
                return

    def to_read(self) -> list[str]:
        """Modules demanded and not read yet."""
        return [m for m in self.demand if m not in self.infos]

    def follow(self) -> bool:
        """Follow the demands of the modules read; True when new demands appeared."""
        before = {m: set(n) for m, n in self.demand.items()}
        for module, info in list(self.infos.items()):
            names = self.demand.get(module, set()) - self.done.get(module, set())
            if not names:
                continue
            self.done.setdefault(module, set()).update(names)
            wanted = set(names)
            if _ALL in wanted:
                wanted.discard(_ALL)
                wanted |= self.used & (set(info.bindings) | set(info.all or ()))
                for star in info.stars:
                    self.want(star, star=True)  # every used name may come through it
            for name in wanted:
                for target in info.bindings.get(name, ()):
                    self.want(target)
                if name not in info.bindings and name not in info.defined:
                    for star in info.stars:
                        self.want(f"{star}.{name}", star=True)
        return self.demand != before


Scanner = Callable[[list[tuple[str, str]]], Awaitable[Sequence[FileScan | None]]]
# the modules' re-export facts (None: not parsed, or past its budget), in the workers
FactsReader = Callable[[list[tuple[str, str]]], Awaitable[Sequence[ModuleInfo | None]]]
# the index over (path, text) for a configuration, in a worker; raises when it gave up
IndexBuilder = Callable[[list[tuple[str, str]], Config], Awaitable[Mapping[str, tuple[str, ...]]]]


class TextCache(Protocol):
    """Texts by blob sha (:class:`ScopedCache`: one installation's)."""

    def get(self, sha: str) -> str | None: ...

    def put(self, sha: str, text: str, size: int) -> None: ...


async def _scan_in_thread(items: list[tuple[str, str]]) -> list[FileScan | None]:
    return list(await asyncio.to_thread(scan_files, items))


async def _facts_in_thread(items: list[tuple[str, str]]) -> list[ModuleInfo | None]:
    return list(await asyncio.to_thread(module_facts, items))


async def _index_in_thread(sources: list[tuple[str, str]], config: Config
                           ) -> Mapping[str, tuple[str, ...]]:
    return await asyncio.to_thread(reexport_entries, sources, config)


async def reexport_config(
    config: Config,
    tree: Tree | None,
    checked: Sequence[tuple[str, bytes]],
    fetch: Callable[[list[str]], Awaitable[list[bytes]]],
    cache: TextCache,
    scan: Scanner | None = None,
    facts: FactsReader | None = None,
    build: IndexBuilder | None = None,
) -> tuple[Config, ModuleReads]:
    """``config`` with the re-exports the checked files can reach at the PR's head.

    ``tree``: the head's file list (None: not fetched, nothing to read); ``checked``: the checked
    files ``(path, content)``; ``fetch``: reads blobs by sha (a round of modules at once);
    ``scan``: runs
    :func:`bot.engine.imports.scan_files` over the checked files, None for a file whose scan
    failed; ``facts``: :func:`bot.engine.imports.module_facts` over modules read; ``build``:
    :func:`bot.engine.imports.reexport_entries` (the service: each in its worker processes;
    default: in a thread). An index that could not be built leaves ``config`` as it was and
    says why in ``reads.failed``."""
    reads = ModuleReads()
    if tree is None or not symbols_of(config):
        return config, reads
    limit = config.limits.max_module_fetches
    total = sum(len(c) for _, c in checked)  # limits.max_total_bytes: checked files and modules
    known = {p: c.decode("utf-8-sig", "replace") for p, c in checked}
    py = [p for p in tree.files if p.endswith(".py")]
    modules = module_paths([*py, *known])

    scans = await (scan or _scan_in_thread)(list(known.items()))

    def plan_checked() -> _Planner:
        used: set[str] = set()
        demands: list[str] = []
        infos: list[ModuleInfo] = []
        for (path, text), found in zip(known.items(), scans, strict=True):
            if found is None:  # not scanned (a worker gave up on it): as a file that won't parse
                used |= used_words(text)
                continue
            demands.extend(found.names)
            used |= found.words
            if found.info is not None and modules.get(found.info.module) == path:
                infos.append(found.info)
        planner = _Planner(modules, used, symbols_of(config))
        for name in demands:
            planner.want(name)
        for info in infos:
            planner.infos[info.module] = info
        return planner

    planner = await asyncio.to_thread(plan_checked)

    async def read_round(wanted: list[str]) -> list[tuple[str, str | None]]:
        nonlocal total
        got: dict[str, str | None] = {}
        to_fetch: list[tuple[str, str]] = []  # (module, blob sha)
        for module in wanted:
            entry = tree.files.get(modules[module])
            text = None if entry is None else cache.get(entry.sha)
            if entry is None:
                got[module] = None
            elif entry.size > config.limits.max_file_bytes:
                reads.skipped += 1
                got[module] = None
            elif total + entry.size > config.limits.max_total_bytes:
                reads.over_total += 1  # read from the cache or not, a module's bytes count
                got[module] = None
            elif text is not None:
                reads.cached += 1
                total += entry.size
                got[module] = text
            elif reads.fetched >= limit:
                reads.skipped += 1
                reads.limited = True
                got[module] = None
            else:
                reads.fetched += 1
                total += entry.size
                to_fetch.append((module, entry.sha))
        contents = await fetch([sha for _, sha in to_fetch]) if to_fetch else []
        for (module, sha), data in zip(to_fetch, contents, strict=True):
            try:
                got[module] = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                got[module] = None
                continue
            cache.put(sha, got[module] or "", len(data))
        return [(m, got[m]) for m in wanted]

    async def parse_round(got: Sequence[tuple[str, str | None]]) -> None:
        readable = [(modules[m], text) for m, text in got if text is not None]
        parsed = dict(zip((p for p, _ in readable),
                          await (facts or _facts_in_thread)(readable), strict=True))
        for module, text in got:
            path = modules[module]
            if text is not None:
                reads.modules[path] = text
            # unreadable, unparsable or past its budget: it binds nothing to follow
            info = parsed.get(path)
            planner.infos[module] = info or ModuleInfo(module, {}, frozenset(), (), None)
        await asyncio.to_thread(_follow, planner)

    got: list[tuple[str, str | None]] = []
    while True:
        await parse_round(got)
        wanted = planner.to_read()
        if not wanted:
            break
        got = await read_round(wanted)

    sources = list({**reads.modules, **known}.items())
    try:
        entries = await (build or _index_in_thread)(sources, config)
    except Exception as exc:  # past its budget, its worker died: said, and failed closed
        reads.failed = _failure(exc)
        return config, reads
    return dataclasses.replace(config, reexports=dict(entries)), reads


def _follow(planner: _Planner) -> None:
    while planner.follow():
        pass


def _failure(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "past its time budget"
    return f"{type(exc).__name__} in its worker"



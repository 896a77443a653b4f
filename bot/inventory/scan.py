"""What the service and ``ssot-bot inventory`` share (docs/behaviour.md §11): the configuration
restricted to the inventory's rules, the cache key of an analysis, and per-file records."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import BinaryIO

from bot import __version__
from bot.config.model import Config
from bot.engine.model import FileResult
from bot.engine.names import module_of_path
from bot.engine.reexports import build_index
from bot.inventory.archive import Extracted
from bot.inventory.model import Inventory, expand_rules, summarise
from bot.state.store import FileRecord

# Files handed to the engine at once: bounds the bytes held in memory during a full scan.
BATCH = 400


def inventory_rules(config: Config) -> tuple[str, ...]:
    """Every rule id any ``tracking.inventory`` target lists."""
    return expand_rules(t.rules for t in config.tracking.inventory)


def restricted(config: Config, rules: Sequence[str]) -> Config:
    """``config`` with only ``rules`` (the inventory analyses nothing else)."""
    wanted = set(rules)
    return replace(config, rules=tuple(r for r in config.rules if r.id in wanted))


def analysis_key(config: Config, index: str = "") -> str:
    """Names an analysis: the rules and paths, the engine's version and (docs/behaviour.md §10)
    the digest of the repository's re-export index once the engine has one. Cached results are
    reused only under the same key."""
    text = repr((config.paths, config.rules, sorted(config.aliases.items()),
                 config.file_time_budget, __version__, index))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def record_of(result: FileResult) -> FileRecord:
    if result.error is not None:
        return FileRecord(error=True)
    return FileRecord(tuple((v.rule, v.line) for v in result.violations))


def take(
    records: Mapping[str, FileRecord],
    rules: Sequence[str],
    *,
    sha: str,
    date: str,
) -> Inventory:
    """The inventory of ``rules`` over every file's record."""
    return summarise(
        {p: r.findings for p, r in records.items() if r.findings}, rules, sha=sha, date=date,
        files_checked=sum(1 for r in records.values() if not r.skipped),
        errors=sum(1 for r in records.values() if r.error),
        skipped_large=sum(1 for r in records.values() if r.skipped))


def batches(items: Sequence[str], size: int = BATCH) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class _Texts(Mapping[str, str]):
    """The Python modules of an unpacked archive as texts, read from its spool (one open
    handle) each time one is looked up: the index scans every module a few times, and holding
    them all would take as much memory as the tree."""

    def __init__(self, extracted: Extracted, spool: BinaryIO) -> None:
        self._spans = extracted.spans
        self._spool = spool
        self._paths = sorted(p for p in extracted.files if p.endswith(".py"))

    def __getitem__(self, path: str) -> str:
        offset, size = self._spans[path]
        self._spool.seek(offset)
        try:
            return self._spool.read(size).decode("utf-8-sig")
        except UnicodeDecodeError:
            return ""  # a file that cannot be read re-exports nothing

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


Reexports = Mapping[str, tuple[str, ...]]


def archive_index(extracted: Extracted, config: Config) -> dict[str, tuple[str, ...]]:
    """The re-export index (docs/behaviour.md §10) over every Python module of an unpacked
    archive, checked or not: the one ``ssot-bot check`` builds for the same tree. Run in a
    worker process by the service (it parses for seconds on a large tree)."""
    with extracted.spool.open("rb") as spool:
        return dict(build_index(_Texts(extracted, spool), config).entries)


def updated_index(index: Reexports, config: Config,
                  changed: Mapping[str, bytes | None]) -> dict[str, tuple[str, ...]]:
    """``index`` after the changed modules (path -> new bytes, None: removed): their own
    entries recomputed from their new text. Chains through unchanged modules are kept as the
    last full read found them (they are re-read on the next tarball run)."""
    modules = {module_of_path(p) for p in changed} - {None}
    kept = {k: v for k, v in index.items() if k.rpartition(".")[0] not in modules}
    sources: list[tuple[str, str]] = []
    for path, data in changed.items():
        if data is not None and path.endswith(".py"):
            try:
                sources.append((path, data.decode("utf-8-sig")))
            except UnicodeDecodeError:
                continue
    if sources:
        # the kept keys count as names, so a changed module re-exporting one is found
        known = replace(config, aliases={**config.aliases, **{k: k for k in kept}})
        fresh = build_index(sources, known).entries
        kept.update({k: v for k, v in fresh.items() if k.rpartition(".")[0] in modules})
    return kept

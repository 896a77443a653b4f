"""What the use cases need from the running service, each as narrow as its use: the service
(:mod:`bot.service.context`) and the tests implement these; no use case imports the service.

A use case receives a frozen dataclass of the few of these it uses (``AnalysisParts``,
``InventoryParts``, ``TrackingParts``, ``ReconcileParts``, ``ForgetParts``), built once where the
process starts; a handler receives ``bot.handlers.parts.HandlerParts``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from bot.config.model import Config
from bot.engine.imports import FileScan
from bot.engine.model import FileResult
from bot.engine.reexports import ModuleInfo
from bot.github.client import Repo
from bot.state.store import StateStore

R = TypeVar("R")

#: ``(installation id, "owner/name") -> the repository's GitHub access``.
RepoFor = Callable[[int, str], Repo]
#: The state store (``SSOT_STATE_DIR``), opened on first use.
StoreFor = Callable[[], StateStore]


@dataclass(frozen=True)
class Durable:
    """A job described as data, so that any replica can run it (shared mode, docs/deploy.md):
    its ``kind`` names the runner, ``key`` coalesces as the queue's key does, ``args`` are JSON.
    One process ignores it and runs the job's function."""

    kind: str
    key: str
    args: Mapping[str, Any]


class Jobs(Protocol):
    """The job queue: coalesces by key, runs at most so many at once, installations
    (``tenant``) in turn."""

    @property
    def queued(self) -> int: ...

    @property
    def running(self) -> int: ...

    def submit(self, key: Hashable, fn: Callable[[], Awaitable[None]], *,
               tenant: Hashable = None, durable: Durable | None = None) -> str: ...


class IssueLocks(Protocol):
    """One lock per key (a tracking issue, a reply): writers of one body take turns."""

    def hold(self, key: Hashable) -> AbstractAsyncContextManager[None]: ...


class Workers(Protocol):
    """The engine's worker processes: parsing never runs on the event loop."""

    async def analyse(self, files: Iterable[tuple[str, bytes]], config: Config, *,
                      started: Callable[[], None] | None = None) -> list[FileResult]: ...

    async def scan_modules(self, files: Sequence[tuple[str, str]],
                           budget: float) -> list[FileScan | None]: ...

    async def module_facts(self, files: Sequence[tuple[str, str]],
                           budget: float) -> list[ModuleInfo | None]: ...

    async def in_worker(self, fn: Callable[..., R], *args: object, budget: float) -> R: ...


class Installations(Protocol):
    """The App's installations and their repositories (the catch-up pass)."""

    async def installations(self) -> list[dict[str, Any]]: ...

    async def installation_repositories(self, installation_id: int) -> list[dict[str, Any]]: ...

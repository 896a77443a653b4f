"""Background work: per-key coalescing queue, keyed locks, and the thread that feeds the
process pool.

Coalescing (docs/behaviour.md §4): triggers for a key whose job is queued and not yet started
merge into it; a trigger arriving while that key's job runs queues exactly one follow-up. Jobs
read the newest state when they start, so merging loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import gidgethub

log = logging.getLogger(__name__)

JobFn = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Durable:
    """A job described as data, so that any replica can run it (shared mode, docs/deploy.md):
    its ``kind`` names the runner, ``key`` coalesces as the queue's key does, ``args`` are JSON.
    One process ignores it and runs the job's function."""

    kind: str
    key: str
    args: Mapping[str, Any]


@dataclass
class _Slot:
    fn: JobFn
    running: bool = False
    follow_up: JobFn | None = None
    triggers: int = 1


@dataclass
class JobStats:
    submitted: int = 0
    merged: int = 0
    started: int = 0
    finished: int = 0
    failed: int = 0
    durations: list[float] = field(default_factory=list)


class JobQueue:
    """Runs at most ``concurrency`` jobs at once, one at a time per key, coalescing triggers."""

    def __init__(self, concurrency: int = 4) -> None:
        self._sem = asyncio.Semaphore(concurrency)
        self._slots: dict[Hashable, _Slot] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.stats = JobStats()
        self.on_done: Callable[[Hashable, float, BaseException | None], None] | None = None
        self._closed = False

    @property
    def queued(self) -> int:
        return sum(1 for s in self._slots.values() if not s.running) + sum(
            1 for s in self._slots.values() if s.follow_up is not None
        )

    @property
    def running(self) -> int:
        return sum(1 for s in self._slots.values() if s.running)

    def submit(self, key: Hashable, fn: JobFn, *, durable: Durable | None = None) -> str:
        """Schedule ``fn`` for ``key``. Returns ``started``, ``merged`` or ``follow-up``.
        ``durable``: the same job as data, for the shared queue (unused here)."""
        if self._closed:
            raise RuntimeError("job queue is shut down")
        self.stats.submitted += 1
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot(fn)
            task = asyncio.create_task(self._run(key, slot))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return "started"
        if not slot.running:
            slot.fn = fn
            slot.triggers += 1
            self.stats.merged += 1
            return "merged"
        if slot.follow_up is not None:
            self.stats.merged += 1
        slot.follow_up = fn
        return "follow-up"

    async def _run(self, key: Hashable, slot: _Slot) -> None:
        while True:
            async with self._sem:
                slot.running = True
                self.stats.started += 1
                started = time.perf_counter()
                error: BaseException | None = None
                try:
                    await slot.fn()
                except asyncio.CancelledError:
                    self._slots.pop(key, None)
                    raise
                except Exception as exc:  # a job's failure must not kill the queue
                    error = exc
                    self.stats.failed += 1
                    log.exception("job failed", extra={"job": str(key)})
                duration = time.perf_counter() - started
                self.stats.finished += 1
                self.stats.durations.append(duration)
                del self.stats.durations[:-1000]
                if self.on_done:
                    self.on_done(key, duration, error)
                slot.running = False
            if slot.follow_up is None:
                self._slots.pop(key, None)
                return
            slot.fn, slot.follow_up = slot.follow_up, None

    async def join(self) -> None:
        """Wait until nothing is queued or running."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def shutdown(self, grace: float = 25.0) -> None:
        """Stop taking jobs, give running ones ``grace`` seconds, then cancel the rest."""
        self._closed = True
        if not self._tasks:
            return
        _, pending = await asyncio.wait(list(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class Jobs(Protocol):
    """``bot.jobs``: :class:`JobQueue` in one process, the shared queue across replicas."""

    @property
    def stats(self) -> JobStats: ...

    @property
    def queued(self) -> int: ...

    @property
    def running(self) -> int: ...

    def submit(self, key: Hashable, fn: JobFn, *, durable: Durable | None = None) -> str: ...

    async def join(self) -> None: ...

    async def shutdown(self, grace: float = 25.0) -> None: ...


class CheckRuns:
    """The check run in progress per (repository, head, check name), so that an analysis run
    again (a retry after GitHub errors) completes it instead of creating a second one. One
    process remembers them here (bounded); shared mode in its database."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._runs: dict[tuple[str, str, str], int] = {}
        self._capacity = capacity

    async def find(self, repo: str, head_sha: str, name: str) -> int | None:
        return self._runs.get((repo.lower(), head_sha, name))

    async def remember(self, repo: str, head_sha: str, name: str, check_run_id: int) -> None:
        self._runs[(repo.lower(), head_sha, name)] = check_run_id
        while len(self._runs) > self._capacity:
            del self._runs[next(iter(self._runs))]

    async def forget(self, repo: str, head_sha: str, name: str, check_run_id: int) -> None:
        if self._runs.get((repo.lower(), head_sha, name)) == check_run_id:
            del self._runs[(repo.lower(), head_sha, name)]


class KeyedLocks:
    """One asyncio lock per key (e.g. per tracking issue), dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


# GitHub stayed down (or unreachable) through the client's own retries.
TRANSIENT: tuple[type[BaseException], ...] = (
    gidgethub.GitHubBroken, aiohttp.ClientError, TimeoutError)
ATTEMPTS = 3


async def retry_later(work: Callable[[], Awaitable[object]], *, delay: float,
                      attempts: int = ATTEMPTS, what: str = "work") -> None:
    """Run ``work``; on a :data:`TRANSIENT` error wait ``delay`` seconds and run it again, up to
    ``attempts`` times in all (then the error propagates). ``work`` must be idempotent."""
    for attempt in range(1, attempts + 1):
        try:
            await work()
            return
        except TRANSIENT as exc:
            if attempt == attempts:
                raise
            log.warning("%s failed on GitHub errors; trying again", what, extra={
                "error": type(exc).__name__, "delay": delay, "attempt": attempt})
            await asyncio.sleep(delay)

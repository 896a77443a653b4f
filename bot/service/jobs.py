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
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

JobFn = Callable[[], Awaitable[None]]


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

    def submit(self, key: Hashable, fn: JobFn) -> str:
        """Schedule ``fn`` for ``key``. Returns ``started``, ``merged`` or ``follow-up``."""
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

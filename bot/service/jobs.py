"""Background work: per-key coalescing queue, keyed locks, and the thread that feeds the
process pool.

Coalescing (docs/behaviour.md §4): triggers for a key whose job is queued and not yet started
merge into it; a trigger arriving while that key's job runs queues exactly one follow-up. Jobs
read the newest state when they start, so merging loses nothing.

Fairness (docs/behaviour.md §13): every job belongs to a *tenant* (its installation). Waiting
jobs start in turn by tenant (the tenant with the fewest jobs running first), not in order of
arrival, and a tenant that already runs jobs leaves the last free slot to a tenant that runs
none: one installation's burst of PRs never holds every slot. While a job runs,
:data:`current_tenant` names its tenant, so that the work it hands the engine's workers waits in
that tenant's queue there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Protocol

from bot.usecases.ports import Durable

log = logging.getLogger(__name__)

JobFn = Callable[[], Awaitable[None]]

# the tenant (installation) of the job this task runs, None outside jobs
current_tenant: contextvars.ContextVar[Hashable] = contextvars.ContextVar(
    "ssot_job_tenant", default=None)


@dataclass
class _Slot:
    fn: JobFn
    tenant: Hashable = None
    running: bool = False
    follow_up: JobFn | None = None
    triggers: int = 1


class FairSlots:
    """``concurrency`` slots shared by tenants in turn (a fair semaphore).

    A waiting tenant with the fewest slots held goes first (ties: the one waiting longest as a
    tenant); a tenant that holds slots already takes a slot only while another stays free, so a
    tenant holding none always finds one (with one slot: when it frees)."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = max(1, concurrency)
        self._held: dict[Hashable, int] = {}
        self._waiters: dict[Hashable, deque[asyncio.Future[None]]] = {}
        self._order: deque[Hashable] = deque()

    @property
    def free(self) -> int:
        return self.concurrency - sum(self._held.values())

    def held(self, tenant: Hashable) -> int:
        return self._held.get(tenant, 0)

    @contextlib.asynccontextmanager
    async def hold(self, tenant: Hashable) -> AsyncIterator[None]:
        await self.acquire(tenant)
        try:
            yield
        finally:
            self.release(tenant)

    async def acquire(self, tenant: Hashable) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(tenant, deque()).append(waiter)
        if tenant not in self._order:
            self._order.append(tenant)
        self._grant()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release(tenant)  # granted, then cancelled before it ran
            else:
                self._drop(tenant, waiter)
            raise

    def release(self, tenant: Hashable) -> None:
        count = self._held.get(tenant, 0) - 1
        if count > 0:
            self._held[tenant] = count
        else:
            self._held.pop(tenant, None)
        self._grant()

    def _drop(self, tenant: Hashable, waiter: asyncio.Future[None]) -> None:
        queue = self._waiters.get(tenant)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
            if not queue:
                del self._waiters[tenant]
                self._order.remove(tenant)
        self._grant()

    def _grant(self) -> None:
        while self._order:
            free = self.free
            tenant = min(self._order, key=self.held)  # first of the fewest (min is stable)
            if free <= 0 or (free == 1 and self.held(tenant) > 0 and self.concurrency > 1):
                return
            queue = self._waiters[tenant]
            waiter = queue.popleft()
            self._order.remove(tenant)
            if queue:
                self._order.append(tenant)  # its turn is taken
            else:
                del self._waiters[tenant]
            if waiter.done():
                continue
            self._held[tenant] = self.held(tenant) + 1
            waiter.set_result(None)


@dataclass
class JobStats:
    submitted: int = 0
    merged: int = 0
    started: int = 0
    finished: int = 0
    failed: int = 0
    durations: list[float] = field(default_factory=list)


class JobQueue:
    """Runs at most ``concurrency`` jobs at once, one at a time per key, coalescing triggers,
    tenants in turn (:class:`FairSlots`)."""

    def __init__(self, concurrency: int = 4) -> None:
        self._sem = FairSlots(concurrency)
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

    def submit(self, key: Hashable, fn: JobFn, *, tenant: Hashable = None,
               durable: Durable | None = None) -> str:
        """Schedule ``fn`` for ``key``, a job of ``tenant`` (its installation). Returns
        ``started``, ``merged`` or ``follow-up``. ``durable``: the same job as data, for the
        shared queue (unused here)."""
        if self._closed:
            raise RuntimeError("job queue is shut down")
        self.stats.submitted += 1
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot(fn, tenant)
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
        current_tenant.set(slot.tenant)  # this task's own context
        while True:
            async with self._sem.hold(slot.tenant):
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

    def submit(self, key: Hashable, fn: JobFn, *, tenant: Hashable = None,
               durable: Durable | None = None) -> str: ...

    async def join(self) -> None: ...

    async def shutdown(self, grace: float = 25.0) -> None: ...


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

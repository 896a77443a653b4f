"""The running bot's shared parts, handed to every handler: settings, GitHub access, the job
queue, per-issue locks, metrics, and the one engine process pool every analysis shares."""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import aiohttp

from bot.config.model import Config
from bot.engine.imports import FileScan, module_facts, scan_files
from bot.engine.model import FileResult
from bot.engine.pool import (  # imports libcst now, not on the first PR
    Batch,
    EnginePool,
    analyse_files,
    warm_up,
)
from bot.engine.reexports import ModuleInfo
from bot.github.client import GitHub, Repo, RetryPolicy
from bot.github.ratelimit import RateLimits
from bot.service import logs
from bot.service.jobs import JobQueue, KeyedLocks, current_tenant
from bot.service.metrics import Metrics
from bot.settings import Settings
from bot.state.store import StateStore, open_store

_R = TypeVar("_R")
log = logging.getLogger(__name__)


class DeliveryLog:
    """Delivery ids handled successfully, recently (bounded: the oldest are forgotten first),
    and those being handled now. A failed delivery is forgotten, so that GitHub's "Redeliver"
    (same id) runs it again."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._running: set[str] = set()
        self._capacity = capacity

    def seen(self, delivery_id: str) -> bool:
        return delivery_id in self._ids or delivery_id in self._running

    def begin(self, delivery_id: str) -> bool:
        """Start handling ``delivery_id``; False when it succeeded before or runs now."""
        if self.seen(delivery_id):
            return False
        self._running.add(delivery_id)
        return True

    def succeeded(self, delivery_id: str) -> None:
        self._running.discard(delivery_id)
        if not delivery_id:
            return
        self._ids[delivery_id] = None
        self._ids.move_to_end(delivery_id)
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)

    def failed(self, delivery_id: str) -> None:
        self._running.discard(delivery_id)


class Bot:
    def __init__(self, settings: Settings, *, retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self.metrics = Metrics()
        self.jobs = JobQueue(settings.max_concurrent_analyses)
        self.jobs.on_done = self._job_done
        self.issue_locks = KeyedLocks()
        self.deliveries = DeliveryLog()
        self.rate_limits = RateLimits()  # latest x-ratelimit-* per installation (§12 pacing)
        self.reconciler: Any = None  # the catch-up pass (bot.usecases.reconcile), when on
        self._tasks: set[asyncio.Future[Any]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._github: GitHub | None = None
        self._store: StateStore | None = None
        # One bounded pool of worker processes for every analysis (None: parse in a thread of
        # this process, for tests); it is fed from one thread per concurrent analysis, so the
        # event loop never parses.
        workers = settings.workers
        self.pool: EnginePool | None = None if workers == 0 else EnginePool(
            workers or os.cpu_count() or 1, memory_mb=settings.worker_memory_mb, reserve=True)
        self._executor = ThreadPoolExecutor(
            max_workers=settings.max_concurrent_analyses, thread_name_prefix="ssot-analysis")

    @property
    def app_id(self) -> str | None:
        return self.settings.app_id

    async def start(self) -> None:
        if self.settings.workers != 0:
            loop = asyncio.get_running_loop()
            self.spawn(loop.run_in_executor(self._executor, warm_up))
        if self.settings.can_call_github and self._github is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
            assert self.settings.app_id is not None and self.settings.private_key is not None
            self._github = GitHub(
                self._session, api_url=self.settings.api_url, app_id=self.settings.app_id,
                private_key=self.settings.private_key, policy=self.retry,
                on_response=self._on_github_response)
        if self._github is not None and self.settings.reconcile_minutes > 0 \
                and self.reconciler is None:
            # docs/behaviour.md §12: catch up at start and every SSOT_RECONCILE_MINUTES
            from bot.usecases.reconcile import Reconciler  # the use case imports this module

            self.reconciler = Reconciler(self, interval=self.settings.reconcile_minutes * 60)
            self.reconciler.start()

    async def stop(self) -> None:
        if self.reconciler is not None:
            await self.reconciler.stop()
        await self.jobs.shutdown(grace=25.0)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
        if self._session is not None:
            await self._session.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self.pool is not None:
            await asyncio.to_thread(self.pool.close)

    def spawn(self, work: Awaitable[Any]) -> asyncio.Future[Any]:
        """Run ``work`` in the background, tracked so that shutdown and tests can wait for it."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def idle(self) -> None:
        """Wait until every dispatched event and queued job has finished (tests, the demo)."""
        while self._tasks or self.jobs.running or self.jobs.queued:
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            await self.jobs.join()

    @property
    def github(self) -> GitHub:
        if self._github is None:
            raise RuntimeError("GitHub access is not configured (APP_ID and PRIVATE_KEY)")
        return self._github

    @property
    def store(self) -> StateStore:
        """The inventory's on-disk cache (``SSOT_STATE_DIR``), opened on first use."""
        if self._store is None:
            self._store = open_store(self.settings.state_dir)
        return self._store

    @store.setter
    def store(self, store: StateStore) -> None:
        self._store = store

    def repo(self, installation_id: int, full_name: str) -> Repo:
        if self._github is None:
            raise RuntimeError("GitHub access is not configured (APP_ID and PRIVATE_KEY)")
        return self._github.repo(installation_id, full_name)

    async def analyse(self, files: Iterable[tuple[str, bytes]], config: Config, *,
                      started: Callable[[], None] | None = None) -> list[FileResult]:
        """Run the engine over ``files`` in the shared process pool; the event loop only waits.
        Cancelled (an analysis past its time budget), the files still queued are dropped and
        the workers busy with them are stopped. ``started``: called once every file is planned
        and queued (the bytes given are no longer held: a caller may read the next files)."""
        items = list(files)
        del files
        loop = asyncio.get_running_loop()
        pool = self.pool
        if pool is None:
            results = await loop.run_in_executor(
                self._executor, lambda: analyse_files(items, config, workers=0))
        else:
            tenant = current_tenant.get()  # the job's installation: its turn in the pool
            starting = loop.run_in_executor(
                self._executor, lambda: pool.start(items, config, tenant=tenant))
            try:
                batch = await asyncio.shield(starting)
            except asyncio.CancelledError:
                starting.add_done_callback(_cancel_batch)
                raise
            items.clear()  # the batch holds the texts of the files queued, no more
            if started is not None:
                started()
            try:  # waited for on the loop: no thread sits blocked per batch
                if batch.futures:
                    await asyncio.wait([asyncio.wrap_future(f) for f in batch.futures])
            except asyncio.CancelledError:
                batch.cancel()
                raise
            results = batch.wait()  # every file settled: returns at once
        for r in results:
            self.metrics.files_analysed.labels("error" if r.error else "ok").inc()
        return results

    async def scan_modules(self, files: Sequence[tuple[str, str]],
                           budget: float) -> list[FileScan | None]:
        """The re-export planning's scan of each checked file (:mod:`bot.engine.imports`) in
        the worker processes, as the engine's: ``ast`` parsing holds the GIL a whole file at a
        time (1.4 s for 0.8 MB), which would stop this process's event loop as long. None for a
        file its worker gave up on (past ``budget`` seconds, or the worker died)."""
        items = list(files)
        if self.pool is None:
            return list(await asyncio.to_thread(scan_files, items))
        done = await self._in_workers(scan_files, [([item],) for item in items], budget)
        return [d[0] if isinstance(d, list) else None for d in done]

    async def module_facts(self, files: Sequence[tuple[str, str]],
                           budget: float) -> list[ModuleInfo | None]:
        """The re-export facts of each module read for the index, in the worker processes,
        one module a task under ``budget`` seconds (None: given up on, or does not parse)."""
        items = list(files)
        if self.pool is None:
            return list(await asyncio.to_thread(module_facts, items))
        done = await self._in_workers(module_facts, [([item],) for item in items], budget)
        return [d[0] if isinstance(d, list) else None for d in done]

    async def in_worker(self, fn: Callable[..., _R], *args: object, budget: float) -> _R:
        """``fn(*args)`` in a worker process (in a thread when the service has none): work that
        holds the GIL for long stretches (``ast`` parsing a whole tree for the inventory's
        re-export index) stays out of this process, whose event loop answers webhooks.
        ``fn``: a module-level function the workers import by name. Past ``budget`` seconds
        the worker is stopped and :class:`TimeoutError` raised."""
        if self.pool is None:
            return await asyncio.to_thread(fn, *args)
        (done,) = await self._in_workers(fn, [args], budget)
        if isinstance(done, BaseException):
            raise done
        return done

    async def _in_workers(self, fn: Callable[..., _R], calls: Sequence[tuple[object, ...]],
                          budget: float) -> list[_R | BaseException]:
        """``fn(*args)`` for each of ``calls`` in the pool, each stopped past ``budget``
        seconds; a call's exception is its result. Cancelled, every call is."""
        pool = self.pool
        assert pool is not None
        loop = asyncio.get_running_loop()
        tenant = current_tenant.get()
        futures = await loop.run_in_executor(self._executor, lambda: [
            pool.submit(fn, *args, timeout=budget, tenant=tenant) for args in calls])
        try:
            return await asyncio.gather(*(asyncio.wrap_future(f) for f in futures),
                                        return_exceptions=True)
        except asyncio.CancelledError:
            for f in futures:
                f.cancel()
            raise

    def _job_done(self, key: object, duration: float, error: BaseException | None) -> None:
        self.metrics.analysis_seconds.labels("error" if error else "ok").observe(duration)

    def _on_github_response(self, method: str, url: str, status: int | None,
                            headers: Any) -> None:
        installation = (logs.current().get("installation"))
        self.metrics.github_response(method, status, headers,
                                     str(installation) if installation else None)
        self.rate_limits.observe(str(installation) if installation else None, url, headers)


def _cancel_batch(started: asyncio.Future[Batch]) -> None:
    if not started.cancelled() and started.exception() is None:
        started.result().cancel()

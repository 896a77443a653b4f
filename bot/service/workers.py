"""The engine's worker processes, shared by every analysis of the running service: one bounded
pool fed from one thread per concurrent analysis, so the event loop never parses."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

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
from bot.service.jobs import current_tenant
from bot.service.metrics import Metrics

_R = TypeVar("_R")


class EngineWorkers:
    """``workers`` processes (0: parse in a thread of this process, for tests; None: one per
    CPU), fed from at most ``concurrency`` threads. Implements
    :class:`bot.usecases.ports.Workers`."""

    def __init__(self, workers: int | None, *, concurrency: int, memory_mb: int | None,
                 metrics: Metrics) -> None:
        self.metrics = metrics
        self.pool: EnginePool | None = None if workers == 0 else EnginePool(
            workers or os.cpu_count() or 1, memory_mb=memory_mb, reserve=True)
        self._executor = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="ssot-analysis")

    def warm_up(self) -> asyncio.Future[None]:
        """Import the engine (libcst) now, not on the first PR."""
        return asyncio.get_running_loop().run_in_executor(self._executor, warm_up)

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self.pool is not None:
            await asyncio.to_thread(self.pool.close)

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
            try:  # waited for on the loop: no thread sits blocked per batch; each file's
                # outcome is read from the batch below, and gather reads every wrapper's
                # exception (asyncio.wait left a file past its budget to be logged, when
                # collected, as "Future exception was never retrieved")
                await asyncio.gather(*(asyncio.wrap_future(f) for f in batch.futures),
                                     return_exceptions=True)
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
        return await self._per_file(scan_files, files, budget)

    async def module_facts(self, files: Sequence[tuple[str, str]],
                           budget: float) -> list[ModuleInfo | None]:
        """The re-export facts of each module read for the index, in the worker processes, one
        module a task under ``budget`` seconds (None: given up on, or it does not parse)."""
        return await self._per_file(module_facts, files, budget)

    async def _per_file(self, fn: Callable[[list[tuple[str, str]]], list[_R]],
                        files: Sequence[tuple[str, str]], budget: float) -> list[_R | None]:
        items = list(files)
        if self.pool is None:
            return list(await asyncio.to_thread(fn, items))
        done = await self._in_workers(fn, [([item],) for item in items], budget)
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


def _cancel_batch(started: asyncio.Future[Batch]) -> None:
    if not started.cancelled() and started.exception() is None:
        started.result().cancel()

"""Group commit: what concurrent callers hand in is stored together, one batch per round trip.

Shared mode stores every webhook delivery before its 202 (contract §15). One statement and one
commit per delivery made a burst's answers wait in line for the database: 20 deliveries in
flight on 4 connections, each insert 30 ms on a loaded 2-core machine (docs/benchmarks.md,
"Several replicas"). :class:`GroupCommit` hands every item waiting to one call of ``store``:
a burst costs a few round trips and commits, not one each, and a lone item is stored at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Items from concurrent callers, stored in batches by ``store`` (which returns one result
    per item, in order). At most ``slots`` batches are stored at once; an item arriving while
    every slot is busy waits for the next batch, which takes every item waiting, up to ``most``
    items or ``budget`` in ``size`` (at least one). When ``store`` raises, every caller of that
    batch gets the exception. A caller that gives up (cancelled, timed out) before its batch
    is taken leaves nothing stored; after, its item may be stored all the same."""

    def __init__(self, store: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *, slots: int,
                 most: int, budget: int, size: Callable[[T], int]) -> None:
        self._store = store
        self._slots = slots
        self._most = most
        self._budget = budget
        self._size = size
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._busy = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def put(self, item: T) -> R:
        """``item`` stored (its result), together with whatever else waits."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._busy < self._slots:
            self._busy += 1
            task = asyncio.create_task(self._drain(), name="ssot-group-commit")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def join(self) -> None:
        """Wait until every batch taken so far is stored (or failed to be)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    def _take(self) -> list[tuple[T, asyncio.Future[R]]]:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        used = taken = 0
        for item, future in self._waiting:
            if len(batch) >= self._most or (batch and used >= self._budget):
                break
            taken += 1
            if not future.done():  # its caller gave up: not stored
                batch.append((item, future))
                used += self._size(item)
        del self._waiting[:taken]
        return batch

    async def _drain(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._waiting:
                batch = self._take()
                if not batch:
                    continue
                try:
                    results = await self._store([item for item, _ in batch])
                except Exception as exc:  # every caller of the batch gets it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        except BaseException:  # cancelled (shutdown): nobody is left waiting forever
            for _, future in batch + (self._waiting if self._busy == 1 else []):
                future.cancel()
            raise
        finally:
            self._busy -= 1

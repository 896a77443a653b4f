"""Group commit: concurrent items stored together, a lone item at once, failures to every caller
of the batch, a caller that gave up before its batch was taken stores nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.service.batching import GroupCommit


class Store:
    """A store whose calls are recorded and can be held open."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None

    async def __call__(self, items: Sequence[str]) -> list[str]:
        self.batches.append(list(items))
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return [item.upper() for item in items]


async def settle() -> None:
    """Let the tasks started so far run up to their next wait (a put, then its batch)."""
    for _ in range(3):
        await asyncio.sleep(0)


def group(store: Store, *, slots: int = 1, most: int = 100, budget: int = 1000
          ) -> GroupCommit[str, str]:
    return GroupCommit(store, slots=slots, most=most, budget=budget, size=len)


async def test_a_lone_item_is_stored_at_once_and_a_burst_in_few_batches() -> None:
    store = Store()
    commit = group(store)
    assert await commit.put("a") == "A"
    assert store.batches == [["a"]]
    store.gate.clear()
    first = asyncio.ensure_future(commit.put("b"))
    await settle()
    assert store.batches[-1] == ["b"]  # the slot is busy with "b" ...
    burst = [asyncio.ensure_future(commit.put(f"c{i}")) for i in range(20)]
    await settle()
    store.gate.set()  # ... so the 20 arriving meanwhile are stored as one batch
    assert await first == "B"
    assert await asyncio.gather(*burst) == [f"C{i}" for i in range(20)]
    assert store.batches[1:] == [["b"], [f"c{i}" for i in range(20)]]
    assert commit.waiting == 0


async def test_batches_are_bounded_by_count_and_size_and_use_the_slots() -> None:
    store = Store()
    store.gate.clear()
    commit = group(store, slots=2, most=3, budget=10)
    items = ["x" * 6, "y" * 6, "z", "1", "2", "3", "4"]
    puts = [asyncio.ensure_future(commit.put(i)) for i in items]
    await settle()
    # two batches at once (two slots), each cut by the size budget or the count
    assert store.batches == [["x" * 6, "y" * 6], ["z", "1", "2"]]
    store.gate.set()
    assert await asyncio.gather(*puts) == [i.upper() for i in items]
    assert store.batches[2:] == [["3", "4"]]


async def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_goes_on() -> None:
    store = Store()
    store.gate.clear()
    commit = group(store)
    first = asyncio.ensure_future(commit.put("a"))
    await settle()
    second = [asyncio.ensure_future(commit.put(i)) for i in ("b", "c")]
    await settle()
    store.fail = ConnectionError("database away")
    store.gate.set()
    for future in (first, *second):
        with pytest.raises(ConnectionError):
            await future
    store.fail = None
    assert await commit.put("d") == "D"


async def test_a_caller_that_gave_up_before_its_batch_stores_nothing() -> None:
    store = Store()
    store.gate.clear()
    commit = group(store)
    first = asyncio.ensure_future(commit.put("a"))
    await settle()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await commit.put("late")
    kept = asyncio.ensure_future(commit.put("b"))
    await settle()
    store.gate.set()
    assert (await first, await kept) == ("A", "B")
    assert store.batches == [["a"], ["b"]]
    await commit.join()


async def test_cancelled_while_storing_nobody_waits_forever() -> None:
    store = Store()
    store.gate.clear()
    commit = group(store)
    first = asyncio.ensure_future(commit.put("a"))
    await settle()
    waiting = asyncio.ensure_future(commit.put("b"))
    await settle()
    for task in list(commit._tasks):  # what a shutdown does to the loop's tasks
        task.cancel()
    for future in (first, waiting):
        with pytest.raises(asyncio.CancelledError):
            await future

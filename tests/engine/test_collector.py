"""The collector set for a batch of parses: less often, the imports frozen, undone after."""

from __future__ import annotations

import gc
import weakref

import pytest

from bot.engine import collector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref[Node]:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture
def unfrozen() -> None:
    if gc.get_freeze_count():
        pytest.skip("something in this process froze objects already")


@pytest.mark.usefixtures("unfrozen")
def test_batch_sets_the_collector_and_restores_it() -> None:
    before = gc.get_threshold()
    kept = Node()  # alive before the batch: frozen during it
    with collector.batch():
        assert gc.get_threshold() == (collector.FIRST_GENERATION, *before[1:])
        assert gc.get_freeze_count() > 0
        assert gc.is_tracked(kept)
        garbage = cycle()  # made during the batch: not frozen, still collected
        gc.collect()
        assert garbage() is None
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("unfrozen")
def test_batch_restores_after_an_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collector.batch():
        raise RuntimeError("boom")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


@pytest.mark.usefixtures("unfrozen")
def test_a_freeze_made_before_stays() -> None:
    gc.freeze()
    try:
        count = gc.get_freeze_count()
        with collector.batch():
            pass
        assert gc.get_freeze_count() >= count
    finally:
        gc.unfreeze()

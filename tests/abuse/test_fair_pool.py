"""Installations share the engine's workers in turn (docs/behaviour.md §13): the pool's
dispatcher, with real worker processes. No wall-clock asserts: orders and counts."""

from __future__ import annotations

import concurrent.futures

import pytest

from bot.engine.pool import EnginePool
from tests.abuse.workload import sleeper, sleepers


@pytest.fixture
def pool() -> EnginePool:
    engine = EnginePool(2, memory_mb=None)
    yield engine
    engine.close()


def test_another_tenants_call_overtakes_a_tenant_that_keeps_every_worker_busy(
        pool: EnginePool) -> None:
    hostile = [pool.submit(sleeper, 60.0, f"a{n}", timeout=120, tenant="A") for n in range(6)]
    quick = pool.submit(sleeper, 0.0, "b", timeout=120, tenant="B")
    # B's one call finishes while every one of A's is still waiting or running
    assert quick.result(timeout=60) == "b"
    assert not any(f.done() for f in hostile)
    assert pool.fair.preemptions == 1
    for f in hostile:
        f.cancel()


def test_a_preempted_call_runs_again_and_completes(pool: EnginePool) -> None:
    first = [pool.submit(sleeper, 1.0, f"a{n}", timeout=120, tenant="A") for n in range(2)]
    other = pool.submit(sleeper, 0.0, "b", timeout=120, tenant="B")
    assert other.result(timeout=60) == "b"
    assert sorted(f.result(timeout=60) for f in first) == ["a0", "a1"]


def test_waiting_tenants_take_the_workers_in_turn(pool: EnginePool) -> None:
    order: list[str] = []
    calls = [pool.submit(sleeper, 0.05, f"a{n}", timeout=60, tenant="A") for n in range(6)]
    calls += [pool.submit(sleeper, 0.05, f"b{n}", timeout=60, tenant="B") for n in range(3)]
    for future in calls:
        future.add_done_callback(lambda f: order.append(f.result()))
    concurrent.futures.wait(calls, timeout=60)
    assert all(f.done() for f in calls)
    # B's three are done before A's last three: in turn, not first come first served
    assert max(order.index(f"b{n}") for n in range(3)) < order.index("a5")


def test_a_cancelled_waiting_call_never_runs(pool: EnginePool) -> None:
    busy = [pool.submit(sleeper, 0.3, f"a{n}", timeout=60, tenant="A") for n in range(2)]
    waiting = pool.submit(sleeper, 0.0, "late", timeout=60, tenant="A")
    assert waiting.cancel()
    assert sorted(f.result(timeout=60) for f in busy) == ["a0", "a1"]
    assert waiting.cancelled()
    assert pool.fair.waiting("A") == 0 and pool.fair.running("A") == 0


def test_the_spare_worker_serves_a_tenant_with_nothing_running_without_stopping_anyone() -> None:
    engine = EnginePool(2, memory_mb=None, reserve=True)
    try:
        hostile = [engine.submit(sleeper, 60.0, f"a{n}", timeout=120, tenant="A")
                   for n in range(6)]
        assert engine.submit(sleeper, 0.0, "b", timeout=60, tenant="B").result(timeout=60) == "b"
        assert engine.fair.preemptions == 0 and engine.fair.running("A") == 2
        # the spare is for tenants with nothing running: B's second call waits its turn ...
        held = engine.submit(sleeper, 60.0, "b-long", timeout=120, tenant="B")
        queued = engine.submit(sleeper, 0.0, "b2", timeout=60, tenant="B")
        # ... while a third tenant, the spare taken, gets a worker back from A
        assert engine.submit(sleeper, 0.0, "c", timeout=60, tenant="C").result(timeout=60) == "c"
        assert engine.fair.preemptions == 1
        assert not queued.done()
        for f in [*hostile, held, queued]:
            f.cancel()
    finally:
        engine.close()


def test_cancel_waiting_drops_the_waiting_calls_and_lets_the_running_ones_finish(
        pool: EnginePool) -> None:
    running = [pool.submit(sleeper, 0.5, f"r{n}", timeout=60) for n in range(2)]
    waiting = [pool.submit(sleeper, 0.0, f"w{n}", timeout=60) for n in range(3)]
    pool.cancel_waiting([*running, *waiting])
    # the running calls keep their workers (cancelling one would stop its worker)
    assert sorted(f.result(timeout=60) for f in running) == ["r0", "r1"]
    assert all(f.cancelled() for f in waiting)
    assert pool.fair.waiting(None) == 0


def test_a_group_runs_in_one_task_and_a_group_past_its_budget_runs_again_one_by_one(
        pool: EnginePool) -> None:
    quick = pool.submit_group(sleepers, sleeper, [(0.0, "a"), (0.0, "b")], timeout=30)
    assert [f.result(timeout=30) for f in quick] == ["a", "b"]
    # together past the budget: each again alone with the budget, and only the culprit fails
    group = pool.submit_group(sleepers, sleeper, [(0.0, "c"), (30.0, "stuck"), (0.0, "d")],
                              timeout=1.0)
    c, stuck, d = group
    assert (c.result(timeout=30), d.result(timeout=30)) == ("c", "d")
    with pytest.raises(concurrent.futures.TimeoutError):
        stuck.result(timeout=30)


def test_a_cancelled_call_of_a_group_stops_the_group(pool: EnginePool) -> None:
    first, second = pool.submit_group(sleepers, sleeper, [(30.0, "a"), (0.0, "b")],
                                      timeout=60)
    assert first.cancel()
    assert second.cancelled() or second.exception(timeout=30) is not None
    assert pool.submit(sleeper, 0.0, "next", timeout=30).result(timeout=30) == "next"

"""The shared queue, locks, sweep, limiter and store on a real PostgreSQL database, two
"replicas" being two backends (two connection pools) in one test process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from bot.service.metrics import Metrics
from bot.service.shared import MAX_ATTEMPTS, SharedBackend, SharedLocks, SharedRechecks, Worker
from bot.state.postgres import PostgresStore
from bot.state.store import FileRecord, Snapshot
from bot.usecases.ports import Durable


@pytest.fixture
async def backends(database_url: str) -> AsyncIterator[list[SharedBackend]]:
    made = [SharedBackend(database_url, Metrics(), pool_size=8) for _ in range(2)]
    for b in made:
        await b.open()
    yield made
    for b in made:
        await b.close()


def statements(backend: SharedBackend) -> float:
    """``ssot_database_queries_total`` of ``backend``."""
    return sum(s.value for m in backend.m_queries.collect() for s in m.samples
               if s.name.endswith("_total"))


def analysis(pr: int, head: str = "") -> Durable:
    return Durable("analysis", f"analysis:o/r#{pr}", {"number": pr, "head": head})


async def test_one_waiting_and_one_running_per_key_the_newest_waiting(
        backends: list[SharedBackend]) -> None:
    a, b = backends
    assert await a.enqueue(analysis(1, "h1")) == "queued"
    first = await a.take("w-a", deliveries=False)
    assert first is not None and first.args["head"] == "h1"
    outcomes = [await (a if i % 2 else b).enqueue(analysis(1, f"h{i}")) for i in range(2, 12)]
    assert outcomes == ["queued"] + ["merged"] * 9
    assert await b.take("w-b", deliveries=False) is None  # its key runs elsewhere
    assert await a.enqueue(analysis(2)) == "queued"
    other = await b.take("w-b", deliveries=False)
    assert other is not None and other.key == "analysis:o/r#2"  # other keys are not held up
    await a.finish(first, "w-a", ok=True)
    follow_up = await b.take("w-b", deliveries=False)
    assert follow_up is not None and follow_up.args["head"] == "h11"  # the newest head wins
    assert (await a.queue_state()).queued == 0


async def test_a_waiting_job_keeps_the_arguments_of_the_later_delivery(
        backends: list[SharedBackend]) -> None:
    """A worker runs a burst's deliveries at once: the handler of an older delivery may store
    its job after a newer one's. The waiting job keeps the later delivery's arguments (by the
    order the deliveries were stored); a job not submitted by a delivery takes its place."""
    import bot.service.shared as shared

    a, b = backends

    async def enqueue_from(backend: SharedBackend, trigger: int | None, head: str) -> str:
        token = shared._TRIGGER.set(trigger)
        try:
            return await backend.enqueue(analysis(3, head))
        finally:
            shared._TRIGGER.reset(token)

    assert await enqueue_from(a, 7, "newer") == "queued"
    assert await enqueue_from(b, 5, "older") == "merged"  # handled last, delivered first
    job = await a.take("w-a", deliveries=False)
    assert job is not None and job.args["head"] == "newer" and job.args["trigger"] == 7
    assert await enqueue_from(a, 9, "h9") == "queued"
    assert await enqueue_from(b, None, "catch-up") == "merged"  # not from a delivery
    follow_up = await b.take("w-b", deliveries=False)
    assert follow_up is None  # its key runs on w-a
    await a.finish(job, "w-a", ok=True)
    follow_up = await b.take("w-b", deliveries=False)
    assert follow_up is not None and follow_up.args["head"] == "catch-up"


async def test_the_installation_with_fewest_jobs_running_goes_first(
        backends: list[SharedBackend]) -> None:
    a, b = backends
    for pr in range(1, 6):  # a burst of one installation ...
        await a.enqueue(Durable("analysis", f"analysis:big/r#{pr}", {"installation": 1}))
    await b.enqueue(Durable("analysis", "analysis:small/r#1", {"installation": 2}))  # ... then
    first = await a.take("w-a", deliveries=False)
    second = await b.take("w-b", deliveries=False)
    third = await b.take("w-b", deliveries=False)
    assert first and second and third
    assert [first.key, second.key, third.key] == [
        "analysis:big/r#1", "analysis:small/r#1", "analysis:big/r#2"]


async def test_ten_triggers_during_a_run_make_two_runs(backends: list[SharedBackend]) -> None:
    a, b = backends
    started: list[str] = []
    release, first = asyncio.Event(), asyncio.Event()

    async def run(args: Mapping[str, Any], _payload: bytes | None) -> None:
        started.append(str(args["head"]))
        first.set()
        if len(started) == 1:
            await release.wait()

    workers = [Worker(x, {"analysis": run}, slots=2) for x in backends]
    for w in workers:
        await w.start()
    try:
        await a.enqueue(analysis(7, "h0"))
        await first.wait()
        for i in range(1, 11):
            await (a if i % 2 else b).enqueue(analysis(7, f"h{i}"))
        release.set()
        for _ in range(500):
            if len(started) == 2 and (await a.queue_state()).running == 0:
                break
            await asyncio.sleep(0.02)
    finally:
        for w in workers:
            await w.stop(grace=5)
    assert started == ["h0", "h10"]


async def test_issue_edits_across_two_replicas_strictly_one_at_a_time(
        backends: list[SharedBackend]) -> None:
    locks = [SharedLocks(b) for b in backends]
    body: list[int] = []
    inside = 0
    most = 0

    async def edit(i: int) -> None:
        nonlocal inside, most
        async with locks[i % 2].hold(("o/r", 5)):
            inside += 1
            most = max(most, inside)
            seen = list(body)  # read ...
            await asyncio.sleep(0.001)
            body[:] = [*seen, i]  # ... modify, write
            inside -= 1

    await asyncio.gather(*(edit(i) for i in range(40)))
    assert sorted(body) == list(range(40))  # no edit lost
    assert most == 1


async def test_one_catch_up_pass_at_a_time(backends: list[SharedBackend]) -> None:
    a, b = backends
    async with a.advisory(("singleton", "catch-up pass"), wait=False) as first, \
            b.advisory(("singleton", "catch-up pass"), wait=False) as second:
        assert (first, second) == (True, False)
    async with b.advisory(("singleton", "catch-up pass"), wait=False) as later:
        assert later


async def test_jobs_of_a_dead_worker_go_back_or_give_way(
        backends: list[SharedBackend]) -> None:
    a, b = backends
    await a.beat("dead", [])
    for pr in (1, 2, 3):
        await a.enqueue(analysis(pr))
    stalled = [await a.take("dead", deliveries=False) for _ in range(3)]
    assert all(stalled)
    await a.enqueue(analysis(2, "newer"))  # PR 2's follow-up waits already
    assert await a.accept_delivery("poison", "pull_request", b"{}")
    delivery = await a.take("dead", deliveries=True)
    assert delivery is not None
    await a.fetch("UPDATE ssot_jobs SET attempts = %s WHERE id = %s",
                  (MAX_ATTEMPTS, delivery.id))
    await a.fetch("UPDATE ssot_workers SET heartbeat = now() - interval '1 hour'")
    assert await b.sweep() == 4
    rows = await a.fetch("SELECT key, status, args->>'head' FROM ssot_jobs ORDER BY key")
    assert rows == [("analysis:o/r#1", "queued", ""), ("analysis:o/r#2", "queued", "newer"),
                    ("analysis:o/r#3", "queued", "")]
    # the poison delivery was dropped and its id forgotten: GitHub's Redeliver works
    assert await b.accept_delivery("poison", "pull_request", b"{}")


async def test_a_running_worker_releases_jobs_it_lost_track_of(
        backends: list[SharedBackend]) -> None:
    a, _ = backends
    await a.enqueue(analysis(1))
    await a.enqueue(analysis(2))
    one = await a.take("w", deliveries=False)
    two = await a.take("w", deliveries=False)
    assert one and two
    await a.beat("w", [one.id])  # the worker runs only the first ...
    rows = await a.fetch("SELECT key, status FROM ssot_jobs ORDER BY key")
    # ... but the second may have been taken after it listed what it runs: kept a while
    assert rows == [("analysis:o/r#1", "running"), ("analysis:o/r#2", "running")]
    await a.fetch("UPDATE ssot_jobs SET started_at = now() - interval '1 minute'")
    await a.beat("w", [one.id])
    rows = await a.fetch("SELECT key, status FROM ssot_jobs ORDER BY key")
    assert rows == [("analysis:o/r#1", "running"), ("analysis:o/r#2", "queued")]


async def test_delivery_ids_are_shared_and_a_failed_one_is_forgotten(
        backends: list[SharedBackend]) -> None:
    a, b = backends
    assert await a.accept_delivery("d-1", "push", b"{}")
    assert not await b.accept_delivery("d-1", "push", b"{}")
    job = await b.take("w", deliveries=True)
    assert job is not None and job.args == {"event": "push", "delivery": "d-1"}
    await b.finish(job, "w", ok=False)
    assert await a.accept_delivery("d-1", "push", b"{}")  # Redeliver after a failure
    job = await a.take("w", deliveries=True)
    assert job is not None
    await a.finish(job, "w", ok=True)
    assert not await b.accept_delivery("d-1", "push", b"{}")


async def test_a_burst_of_deliveries_is_stored_in_one_statement_each_once(
        backends: list[SharedBackend]) -> None:
    """Group commit (docs/benchmarks.md, "Several replicas"): deliveries arriving together are
    stored by one statement; a delivery id seen before (on any replica) or twice in the burst
    is answered as a duplicate and stored once; a request without an id is always new."""
    a, b = backends
    assert await b.accept_delivery("seen", "push", b"{}")
    ids = [f"d-{i}" for i in range(30)] + ["seen", "d-3", "", ""]
    before = statements(a)
    fresh = await asyncio.gather(*(a.accept_delivery(i, "push", i.encode()) for i in ids))
    await a.close()  # the wake-up statement sent after the commit is done too
    assert fresh == [True] * 30 + [False, False, True, True]
    assert statements(a) - before <= 2  # the burst's statement, the NOTIFY
    rows = await b.fetch("SELECT args->>'delivery', payload FROM ssot_jobs "
                         "WHERE kind = 'delivery' ORDER BY id")
    assert sorted((r[0], bytes(r[1])) for r in rows) == sorted(
        [(i, i.encode()) for i in ids[:30]] + [("seen", b"{}"), ("", b""), ("", b"")])
    done = await b.fetch("SELECT count(*) FROM ssot_deliveries")
    assert done == [(31,)]


async def test_the_webhook_s_commit_does_not_notify_the_workers_are_woken_after_it(
        backends: list[SharedBackend], database_url: str) -> None:
    """PostgreSQL commits notifying transactions one at a time, each waiting for its flush:
    the webhook's sessions store without the trigger's NOTIFY and notify after the commit."""
    import psycopg

    a, _ = backends
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as listen:
        await listen.execute("LISTEN ssot_jobs")
        notes = listen.notifies(timeout=10)
        async with a.connection(web=True) as web:
            await web.execute("INSERT INTO ssot_jobs (kind, key) VALUES ('delivery', 'd:x')")
        await a.fetch("SELECT pg_notify('ssot_jobs', 'marker')")  # delivered in commit order
        before_marker = []
        async for note in notes:
            if note.payload == "marker":
                break
            before_marker.append(note.payload)
        assert before_marker == []
        notes = listen.notifies(timeout=10, stop_after=1)
        assert await a.accept_delivery("d-1", "push", b"{}")
        assert [n.payload async for n in notes] == ["delivery"]
        await a.enqueue(analysis(1))  # other sessions: the trigger notifies, as before
        notes = listen.notifies(timeout=10, stop_after=1)
        assert [n.payload async for n in notes] == ["job"]


async def test_delivery_bodies_are_compressed_with_lz4_where_the_server_has_it(
        backends: list[SharedBackend]) -> None:
    a, _ = backends
    rows = await a.fetch("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                         "WHERE name = 'default_toast_compression'")
    if not rows or not rows[0][0]:
        pytest.skip("this PostgreSQL has no LZ4 (PostgreSQL's own pglz is used)")
    body = b'{"pull_request": {"url": "https://api.github.com/repos/o/r/pulls/1"}}' * 400
    assert await a.accept_delivery("big", "pull_request", body)
    assert await a.fetch("SELECT pg_column_compression(payload), payload FROM ssot_jobs") == [
        ("lz4", body)]


async def test_a_worker_takes_the_deliveries_it_has_room_for_in_one_statement(
        backends: list[SharedBackend]) -> None:
    a, b = backends
    await a.enqueue(analysis(1))  # not a delivery: not taken with them
    for i in range(5):
        assert await a.accept_delivery(f"d-{i}", "push", b"{}")
    before = statements(b)
    first = await b.take_deliveries("w-b", 3)
    assert statements(b) - before == 1
    assert [j.args["delivery"] for j in first] == ["d-0", "d-1", "d-2"]  # the oldest first
    assert [j.args["delivery"] for j in await a.take_deliveries("w-a", 16)] == ["d-3", "d-4"]
    assert await a.take_deliveries("w-a", 16) == []
    rows = await a.fetch("SELECT kind, status FROM ssot_jobs WHERE kind <> 'delivery'")
    assert rows == [("analysis", "queued")]


async def test_a_worker_takes_no_job_while_its_own_process_stores_webhooks(
        backends: list[SharedBackend], monkeypatch: pytest.MonkeyPatch) -> None:
    """Web first: a burst's 202s do not wait for a CPU behind the jobs it started. A worker
    waits until its own process's webhooks are quiet (at most WEB_FIRST a take); another
    process's worker does not wait for them."""
    import bot.service.shared as shared

    monkeypatch.setattr(shared, "WEB_FIRST", 0.6)
    a, b = backends
    started: dict[str, float] = {}

    async def run(args: Mapping[str, Any], _payload: bytes | None) -> None:
        started[str(args["delivery"])] = asyncio.get_running_loop().time()

    worker = Worker(a, {"delivery": run}, slots=1)
    await worker.start()
    loop = asyncio.get_running_loop()
    try:
        await asyncio.sleep(0.1)  # the worker is idle, waiting for work
        stream_from = loop.time()
        for i in range(12):  # a stream of webhooks into a, one every 5 ms: never quiet
            await a.accept_delivery(f"burst-{i}", "push", b"{}")
            await asyncio.sleep(0.005)
        stream_to = loop.time()
        for _ in range(200):
            if len(started) == 12:
                break
            await asyncio.sleep(0.02)
        # nothing started during the stream, but within WEB_FIRST of the first one stored
        assert len(started) == 12
        first = min(started.values())
        assert first >= min(stream_to, stream_from + 0.6) - 0.05
        assert first <= stream_from + 0.6 + 0.3
        # webhooks into another process hold nothing up
        assert await b.accept_delivery("elsewhere", "push", b"{}")
        sent = loop.time()
        for _ in range(100):
            if "elsewhere" in started:
                break
            await asyncio.sleep(0.01)
        assert started["elsewhere"] - sent < 0.3
    finally:
        await worker.stop(grace=5)


async def test_recheck_limit_counts_across_replicas(backends: list[SharedBackend]) -> None:
    a, b = backends
    allowed = [await (a if i % 2 else b).allow_recheck("O/R", 3, "Alice", i, limit=3,
                                                       window=600)
               for i in range(5)]
    assert allowed == [True, True, True, False, False]
    assert await b.allow_recheck("o/r", 3, "alice", 1, limit=3, window=600)  # same comment
    assert await a.allow_recheck("o/r", 3, "bob", 9, limit=3, window=600)


async def test_the_handlers_recheck_limit_is_the_shared_one(
        backends: list[SharedBackend]) -> None:
    """What the `/ssot recheck` handler asks in shared mode (SharedRechecks, built by the
    service when DATABASE_URL is set): 5 comments in all across two replicas, not 5 each."""
    a, b = (SharedRechecks(x) for x in backends)
    allowed = [await (a if i % 2 else b).admit("o/r", 4, "carol", 100 + i) for i in range(7)]
    assert allowed == [True] * 5 + [False] * 2


async def test_check_run_in_progress_is_found_by_another_replica(
        backends: list[SharedBackend]) -> None:
    a, b = backends
    await a.remember_check_run("O/R", "f" * 40, "SSOT", 41)
    assert await b.check_run("o/r", "f" * 40, "SSOT") == 41
    await b.forget_check_run("o/r", "f" * 40, "SSOT", 40)  # not that run: kept
    assert await a.check_run("o/r", "f" * 40, "SSOT") == 41
    await b.forget_check_run("o/r", "f" * 40, "SSOT", 41)
    assert await a.check_run("o/r", "f" * 40, "SSOT") is None


async def test_postgres_store_keeps_what_the_sqlite_store_keeps(
        backends: list[SharedBackend], database_url: str) -> None:
    store = PostgresStore(database_url)
    try:
        files = {"a.py": "1" * 40, "b.py": "2" * 40, "c.py": "3" * 40}
        await asyncio.to_thread(store.put_results, "o/r", "k", [
            ("a.py", "1" * 40, FileRecord((("r", 3),))), ("b.py", "2" * 40,
                                                          FileRecord(error=True)),
            ("c.py", "3" * 40, FileRecord(skipped=True))])
        await asyncio.to_thread(store.put_snapshot, "o/r", "k",
                                Snapshot("f" * 40, files, {"m": ("x",)}))
        await asyncio.to_thread(store.put_config, "o/r", "f" * 40, "version: 1\n")
        other = PostgresStore(database_url)  # another replica's
        try:
            assert await asyncio.to_thread(other.results, "o/r", "k", files) == {
                "a.py": FileRecord((("r", 3),)), "b.py": FileRecord(error=True),
                "c.py": FileRecord(skipped=True)}
            assert await asyncio.to_thread(other.snapshot, "o/r", "k") == Snapshot(
                "f" * 40, files, {"m": ("x",)})
            assert await asyncio.to_thread(other.config, "o/r") == ("f" * 40, "version: 1\n")
            await asyncio.to_thread(other.put_results, "o/r", "k2",
                                    [("a.py", "1" * 40, FileRecord())])
            await asyncio.to_thread(other.put_snapshot, "o/r", "k",
                                    Snapshot("e" * 40, {"a.py": "1" * 40}))
            assert await asyncio.to_thread(store.results, "o/r", "k", files) == {
                "a.py": FileRecord((("r", 3),))}
            assert await asyncio.to_thread(store.results, "o/r", "k2", files) == {}
        finally:
            other.close()
    finally:
        store.close()


async def test_postgres_store_findings_per_installation_and_forgetting(
        backends: list[SharedBackend], database_url: str) -> None:
    store = PostgresStore(database_url)
    try:
        await asyncio.to_thread(store.put_findings, 1, [("k1", "a"), ("k2", "b")])
        await asyncio.to_thread(store.put_findings, 2, [("k1", "other")])
        assert await asyncio.to_thread(store.findings, 1, ["k1", "k2", "k3"]) == {
            "k1": "a", "k2": "b"}
        assert await asyncio.to_thread(store.findings, 2, ["k1", "k2"]) == {"k1": "other"}
        await asyncio.to_thread(store.forget_installation, 1)
        assert await asyncio.to_thread(store.findings, 1, ["k1", "k2"]) == {}
        await asyncio.to_thread(store.put_config, "o/r", "f" * 40, "x" * (2 << 20))
        assert await asyncio.to_thread(store.config, "o/r") == ("f" * 40, None)  # too large
        await asyncio.to_thread(store.forget, ["O/R"])
        assert await asyncio.to_thread(store.config, "o/r") is None
        assert store.failures == 0
    finally:
        store.close()
    broken = PostgresStore(database_url.rsplit("/", 1)[0] + "/no_such_database")
    try:  # a database that fails answers empty, never raises
        assert await asyncio.to_thread(broken.findings, 1, ["k"]) == {}
        assert broken.failures == 1
    finally:
        broken.close()

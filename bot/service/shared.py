"""Shared mode (contract §15, docs/deploy.md): every replica's deliveries, job queue, locks and
state in one PostgreSQL database. Imported only when ``DATABASE_URL`` is set; needs the
``ssot-bot[shared]`` extra (psycopg and its pool).

The queue is a table (:mod:`bot.service.schema`), not a library's: the rules of
docs/behaviour.md §4 are two partial unique indexes (one waiting and one running job per key),
a trigger's NOTIFY wakes idle workers, ``FOR UPDATE SKIP LOCKED`` hands each job to one worker,
and a heartbeat per worker lets the others find, within seconds, the jobs of a replica that
died: such a job is queued again, or dropped when a newer job of its key already waits (that
one reads the newest state and does the same work). Jobs are idempotent (markers), so a job of
a replica that was only slow, not dead, may run twice and still write once.

What runs where:
- :class:`SharedBackend`: the connection pool and every statement (web and worker roles);
- :class:`SharedJobs`: ``bot.jobs`` in shared mode; a job described as data (:class:`Durable`)
  is stored, any other runs in this process as before;
- :class:`SharedLocks`: ``bot.issue_locks`` in shared mode (a PostgreSQL advisory lock per key,
  held on its own connection);
- :class:`Worker`: fetches and runs jobs, beats its heart, sweeps stalled jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import psycopg
from prometheus_client import Counter, Gauge, Histogram
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from bot.service.batching import GroupCommit
from bot.service.jobs import JobFn, JobQueue, JobStats, KeyedLocks
from bot.service.metrics import Metrics
from bot.service.schema import NOTIFY_SETTING, migrate
from bot.usecases.ports import Durable
from bot.usecases.recheck import RECHECK_LIMIT, RECHECK_WINDOW

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0  # seconds to reach the database before it counts as unreachable
POOL_WAIT = 2.0  # seconds a statement waits for a pooled connection
WEB_CONNECTIONS = 4  # the webhook endpoint's own connections
HEARTBEAT = 2.0  # seconds between a worker's heartbeats
STALE_AFTER = 10.0  # a worker silent this long is dead: its jobs are run by others
# a job the table says a live worker runs, but the worker does not know, this long after it
# started, was lost (its start or end statement cut off): the worker puts it back. Younger ones
# may be taken right now, after the list of running jobs was read.
STRAY_AFTER = 30.0
SWEEP_EVERY = 2.0  # seconds between stalled-job sweeps
POLL = 1.0  # seconds an idle worker waits for a NOTIFY before looking anyway
MAX_ATTEMPTS = 3  # a job whose workers died this many times is dropped (it kills them)
DELIVERY_DAYS = 7  # delivery ids remembered (GitHub redelivers up to 3 days back)
SWEEP_LOCK = 0x55_0150_7D_0002
RECONCILE_LOCK = "catch-up pass"
STORE_BATCH = 64  # deliveries stored in one statement at most ...
STORE_BUDGET = 4 * 1024 * 1024  # ... or bytes of payload (a batch holds one delivery at least)
# web first (role ``all``): while this process is storing webhooks, and until they have been
# quiet this long, its worker takes no job, for at most WEB_FIRST seconds a take: a burst's
# 202s do not wait for a CPU behind the jobs it started (docs/benchmarks.md, "Web first")
WEB_QUIET = 0.02
WEB_FIRST = 0.25

# the delivery job whose handlers run now: durable jobs they submit are awaited before the
# delivery counts as done (a replica dying in between leaves the delivery to be run again)
_SUBMITTED: ContextVar[list[asyncio.Future[str]] | None] = ContextVar(
    "ssot_submitted", default=None)

# the stored order (job id) of the delivery whose handlers run now: a job they submit carries
# it, and a queued job of the same key keeps the arguments of the latest delivery, whichever
# handler stored them last (a worker runs a burst's deliveries at once, in any order)
_TRIGGER: ContextVar[int | None] = ContextVar("ssot_trigger", default=None)

JobRunner = Callable[[Mapping[str, Any], bytes | None], Awaitable[None]]
DB_ERRORS: tuple[type[BaseException], ...] = (psycopg.OperationalError, psycopg.InterfaceError)


# running jobs, with whether a job of their key waits: of the workers gone / of one worker
# but those it runs
_STALLED_GONE = (
    "SELECT id, kind, key, args, attempts, EXISTS (SELECT 1 FROM ssot_jobs q WHERE q.key = j.key "
    "AND q.status = 'queued') FROM ssot_jobs j WHERE status = 'running' AND NOT EXISTS "
    "(SELECT 1 FROM ssot_workers w WHERE w.id = j.worker) FOR UPDATE SKIP LOCKED")
_STALLED_MINE = (
    "SELECT id, kind, key, args, attempts, EXISTS (SELECT 1 FROM ssot_jobs q WHERE q.key = j.key "
    "AND q.status = 'queued') FROM ssot_jobs j WHERE status = 'running' AND j.worker = %s AND "
    "NOT (j.id = ANY(%s)) AND j.started_at < now() - make_interval(secs => %s) "
    "FOR UPDATE SKIP LOCKED")


# deliveries stored as jobs, a batch at a time; the delivery ids new to the database are
# remembered (a redelivery, on any replica, is answered without a second job); returns the
# keys of the jobs stored. The bodies go in binary (as text, hex, they cost 4 of 5 ms of a
# one-delivery statement)
_STORE_DELIVERIES = (
    "WITH i AS (SELECT * FROM unnest(%s::text[], %s::text[], %s::jsonb[], %b::bytea[]) "
    "AS t(delivery, key, args, payload)), d AS (INSERT INTO ssot_deliveries (id) "
    "SELECT delivery FROM i WHERE delivery <> '' ON CONFLICT DO NOTHING RETURNING id) "
    "INSERT INTO ssot_jobs (kind, key, args, payload) SELECT 'delivery', i.key, i.args, "
    "i.payload FROM i WHERE i.delivery = '' OR i.delivery IN (SELECT id FROM d) RETURNING key")


class DatabaseUnavailable(Exception):
    """The shared database did not answer (connection refused, lost, or the pool exhausted)."""


def lock_id(key: Hashable) -> int:
    """A 64-bit advisory-lock id for ``key`` (the same on every replica)."""
    digest = hashlib.blake2b(repr(key).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True)
class Delivery:
    id: str  # X-GitHub-Delivery ("" when the request had none)
    event: str
    body: bytes


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    key: str
    args: Mapping[str, Any]
    payload: bytes | None
    waited: float  # seconds from stored to started


@dataclass
class QueueState:
    queued: int = 0
    running: int = 0
    oldest_queued: float = 0.0  # seconds
    oldest_running: float = 0.0


class SharedBackend:
    """The pool and the statements of shared mode. ``open`` migrates the schema."""

    def __init__(self, url: str, metrics: Metrics, *, pool_size: int = 16,
                 role: str = "all") -> None:
        self.url = url
        self.role = role
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.pool = self._pool("ssot-shared", 2, pool_size)
        # the webhook's one statement has connections of its own, kept open: a burst of
        # deliveries never waits behind the workers' statements or a connection being made
        self.web_pool = self._pool("ssot-web", WEB_CONNECTIONS, WEB_CONNECTIONS,
                                   lambda: {**self._connect, "options": self._web_options})
        self._web_options = ""  # set by open
        self._intake: GroupCommit[Delivery, bool] = GroupCommit(
            self._store_deliveries, slots=WEB_CONNECTIONS, most=STORE_BATCH,
            budget=STORE_BUDGET, size=lambda d: len(d.body))
        self._announce_due = False
        self._announcer: asyncio.Task[None] | None = None
        self._receiving = 0  # webhooks being stored now
        self._received_at = -math.inf  # when the last one was (time.monotonic)
        self._tracked: set[asyncio.Future[Any]] = set()
        r = metrics.registry
        self.m_queries = Counter("ssot_database_queries", "Statements sent to the shared "
                                 "database (round trips)", registry=r)
        self.m_queue = Gauge("ssot_queue_jobs", "Jobs in the shared queue by state",
                             ["state"], registry=r)
        self.m_age = Gauge("ssot_queue_oldest_job_age_seconds",
                           "Age of the oldest job by state (waiting: since stored; running: "
                           "since started)", ["state"], registry=r)
        self.m_wait = Histogram("ssot_job_wait_seconds", "From stored to started, by kind",
                                ["kind"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
                                                   60, 300), registry=r)
        self.m_store = Histogram(
            "ssot_delivery_store_seconds", "From a webhook's delivery handed in to its job "
            "committed (the wait for a batch included)", buckets=(
                0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5),
            registry=r)
        self.m_jobs = Counter("ssot_jobs_done", "Jobs run by this process by kind and outcome",
                              ["kind", "outcome"], registry=r)

    _connect: Mapping[str, Any] = {"autocommit": True, "connect_timeout": int(CONNECT_TIMEOUT)}

    def _pool(self, name: str, least: int, most: int,
              kwargs: Callable[[], dict[str, Any]] | None = None) -> AsyncConnectionPool[Any]:
        return AsyncConnectionPool(self.url, min_size=least, max_size=most, open=False,
                                   timeout=POOL_WAIT, kwargs=kwargs or dict(self._connect),
                                   name=name)

    # connection -----------------------------------------------------------------------------
    async def open(self) -> None:
        await self.pool.open(wait=False)
        async with self.connection() as conn:
            await migrate(conn)
            if self.role in ("web", "all"):
                self._web_options = await self._web_session(conn)
        if self.role in ("web", "all"):
            await self.web_pool.open(wait=False)
            with contextlib.suppress(DatabaseUnavailable, TimeoutError):
                async with asyncio.timeout(POOL_WAIT):
                    await asyncio.gather(*(self._warm() for _ in range(WEB_CONNECTIONS)))

    async def _warm(self) -> None:
        """The storing statement run once, storing nothing, on a webhook connection: the first
        burst after a start does not pay for the server's first plan and catalog reads of each
        connection, nor this process's first use of the statement's adapters."""
        await self.fetch(_STORE_DELIVERIES, ([], [], [], []), web=True, retry=False)

    async def _web_session(self, conn: psycopg.AsyncConnection[Any]) -> str:
        """The webhook's sessions: no NOTIFY in the storing transaction (:data:`NOTIFY_SETTING`),
        and the bodies compressed with LZ4 where the server has it (PostgreSQL's default, pglz,
        took 18 ms of a 20-delivery batch's 24; LZ4 3 ms), after the URL's own options."""
        cur = await conn.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                 "WHERE name = 'default_toast_compression'")
        row = await cur.fetchone()
        options = [str(conninfo_to_dict(self.url).get("options") or ""),
                   f"-c {NOTIFY_SETTING}=off"]
        if row and row[0]:
            options.append("-c default_toast_compression=lz4")
        return " ".join(o for o in options if o)

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                await self._intake.join()
                await self.stored()
                if self._announcer is not None:
                    await self._announcer
        await self.pool.close()
        await self.web_pool.close()

    @contextlib.asynccontextmanager
    async def connection(self, *, web: bool = False
                         ) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        try:
            async with (self.web_pool if web else self.pool).connection() as conn:
                yield conn
        except DB_ERRORS as exc:
            raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def fetch(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = (), *,
                    retry: bool = True, web: bool = False) -> list[tuple[Any, ...]]:
        """Run one statement; its rows (none for a statement without RETURNING). After a
        failure the pool's connections are tested (those the database dropped when it
        restarted are replaced) and the statement tried once more. ``web``: on the webhook's
        own connections."""
        for attempt in (1, 2):
            try:
                async with self.connection(web=web) as conn:
                    self.m_queries.inc()
                    cur = await conn.execute(sql, params)
                    return list(await cur.fetchall()) if cur.description else []
            except DatabaseUnavailable:
                if attempt == 2 or not retry:
                    raise
                # every idle connection may be one the database dropped: test them all,
                # dropping the dead, before the second try
                with contextlib.suppress(*DB_ERRORS):
                    await (self.web_pool if web else self.pool).check()
        raise AssertionError("unreachable")  # pragma: no cover

    # web: deliveries ------------------------------------------------------------------------
    async def accept_delivery(self, delivery_id: str, event: str, body: bytes) -> bool:
        """Store the delivery as a job, committed, with those arriving meanwhile (one statement
        a batch: :class:`~bot.service.batching.GroupCommit`); False when its id was seen
        before."""
        started = time.perf_counter()
        self._receiving += 1
        try:
            fresh = await self._intake.put(Delivery(delivery_id, event, body))
        finally:
            self._receiving -= 1
            self._received_at = time.monotonic()
        self.m_store.observe(time.perf_counter() - started)
        return fresh

    async def web_first(self) -> None:
        """Return once this process's webhooks have been quiet for :data:`WEB_QUIET` (none
        being stored), or after :data:`WEB_FIRST` seconds: what a worker in the same process
        waits for before it takes a job."""
        deadline = time.monotonic() + WEB_FIRST
        while (now := time.monotonic()) < deadline:
            quiet = self._received_at + WEB_QUIET - now
            if not self._receiving and quiet <= 0:
                return
            await asyncio.sleep(min(max(quiet, WEB_QUIET / 2), deadline - now))

    async def _store_deliveries(self, batch: Sequence[Delivery]) -> list[bool]:
        """One statement for ``batch``, on the webhook's connections, which do not NOTIFY in
        the transaction (PostgreSQL commits the transactions that NOTIFY one at a time, each
        waiting for its flush: the workers' enqueues and finishes held the 202s up); the
        workers are woken after the commit, in the background."""
        keys: list[str] = []
        ids: list[str] = []
        args: list[Jsonb] = []
        bodies: list[bytes] = []
        answer: list[str | None] = []  # the key whose row says the delivery is new, per item
        for item in batch:
            if item.id and item.id in ids:  # twice in one batch: the first one counts
                answer.append(None)
                continue
            key = f"delivery:{item.id or uuid.uuid4().hex}"
            keys.append(key)
            ids.append(item.id)
            args.append(Jsonb({"event": item.event, "delivery": item.id}))
            bodies.append(item.body)
            answer.append(key)
        rows = await self.fetch(_STORE_DELIVERIES, (ids, keys, args, bodies), web=True)
        stored = {str(r[0]) for r in rows}
        if stored:
            self._announce()
        return [key is not None and key in stored for key in answer]

    def _announce(self) -> None:
        """NOTIFY the workers that deliveries wait: one statement at a time, the batches stored
        meanwhile announced by the next one."""
        self._announce_due = True
        if self._announcer is None or self._announcer.done():
            self._announcer = asyncio.create_task(self._announcing(), name="ssot-announce")

    async def _announcing(self) -> None:
        while self._announce_due:
            self._announce_due = False
            # a notification is no data: its commit need not wait for the disk (it holds
            # PostgreSQL's lock on notifying commits meanwhile); the idle workers poll anyway
            with contextlib.suppress(DatabaseUnavailable):
                await self.fetch("BEGIN; SET LOCAL synchronous_commit = off; "
                                 "SELECT pg_notify('ssot_jobs', 'delivery'); COMMIT",
                                 retry=False)

    # jobs -----------------------------------------------------------------------------------
    async def enqueue(self, job: Durable) -> str:
        """Store ``job``: ``queued``, or ``merged`` into the one of its key already waiting,
        which takes the newest arguments: those of the later delivery when both were
        submitted by deliveries (``trigger``: its stored order), else the ones stored last."""
        trigger = _TRIGGER.get()
        args = dict(job.args) if trigger is None else {**job.args, "trigger": trigger}
        rows = await self.fetch(
            "INSERT INTO ssot_jobs (kind, key, args) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) WHERE status = 'queued' DO UPDATE SET args = CASE WHEN "
            "(ssot_jobs.args->>'trigger')::bigint > (EXCLUDED.args->>'trigger')::bigint "
            "THEN ssot_jobs.args ELSE EXCLUDED.args END, "
            "triggers = ssot_jobs.triggers + 1 RETURNING (xmax = 0)",
            (job.kind, job.key, Jsonb(args)))
        return "queued" if rows and rows[0][0] else "merged"

    def submit(self, job: Durable) -> str:
        """Store ``job`` in the background (the caller is a handler: it does not wait). Inside a
        delivery job the delivery is done only once the jobs it submitted are stored."""
        future = asyncio.ensure_future(self.enqueue(job))
        self._tracked.add(future)
        future.add_done_callback(self._settled)
        pending = _SUBMITTED.get()
        if pending is not None:
            pending.append(future)
        return "stored"

    def _settled(self, future: asyncio.Future[Any]) -> None:
        self._tracked.discard(future)
        if not future.cancelled() and future.exception() is not None \
                and _SUBMITTED.get() is None:
            log.error("job could not be stored", exc_info=future.exception())

    @property
    def storing(self) -> int:
        return len(self._tracked)

    async def stored(self) -> None:
        """Wait until every job submitted so far is stored (or failed to be)."""
        while self._tracked:
            await asyncio.wait(list(self._tracked))

    async def take(self, worker: str, *, deliveries: bool) -> Job | None:
        """A waiting job of a key none of whose jobs runs, now running on ``worker``: of the
        installation with the fewest jobs running on all replicas (docs/behaviour.md §13: one
        installation's burst does not hold up the others'), the oldest. ``deliveries`` picks
        delivery jobs (:meth:`take_deliveries`), else the others."""
        if deliveries:
            taken = await self.take_deliveries(worker, 1)
            return taken[0] if taken else None
        try:
            rows = await self.fetch(
                "UPDATE ssot_jobs SET status = 'running', worker = %s, started_at = now(), "
                "attempts = attempts + 1 WHERE id = (SELECT j.id FROM ssot_jobs j "
                "WHERE j.status = 'queued' AND j.kind <> 'delivery' AND NOT EXISTS "
                "(SELECT 1 FROM ssot_jobs r WHERE r.key = j.key AND r.status = 'running') "
                "ORDER BY (SELECT count(*) FROM ssot_jobs t WHERE t.status = 'running' AND "
                "t.args->'installation' = j.args->'installation'), j.id "
                "LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, kind, key, args, payload, "
                "extract(epoch FROM now() - enqueued_at)", (worker,))
        except psycopg.errors.UniqueViolation:
            return None  # another worker started this key's job an instant before
        return self._taken(rows)[0] if rows else None

    async def take_deliveries(self, worker: str, most: int) -> list[Job]:
        """Up to ``most`` waiting deliveries, the oldest, now running on ``worker``: one
        statement for as many as the worker has room for (one a statement, a burst of 200
        stored in a second took three to start). Their handlers store the jobs that need
        fairness (analyses, inventories); a delivery's key is its own."""
        try:
            rows = await self.fetch(
                "UPDATE ssot_jobs SET status = 'running', worker = %s, started_at = now(), "
                "attempts = attempts + 1 WHERE id IN (SELECT j.id FROM ssot_jobs j "
                "WHERE j.status = 'queued' AND j.kind = 'delivery' AND NOT EXISTS "
                "(SELECT 1 FROM ssot_jobs r WHERE r.key = j.key AND r.status = 'running') "
                "ORDER BY j.id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id, kind, key, args, "
                "payload, extract(epoch FROM now() - enqueued_at)", (worker, most))
        except psycopg.errors.UniqueViolation:
            return []  # a redelivery's job was started again an instant before
        return self._taken(rows)

    def _taken(self, rows: Sequence[tuple[Any, ...]]) -> list[Job]:
        jobs = sorted((Job(int(id_), str(kind), str(key), dict(args or {}),
                           None if payload is None else bytes(payload), float(waited))
                       for id_, kind, key, args, payload, waited in rows), key=lambda j: j.id)
        for job in jobs:
            self.m_wait.labels(job.kind).observe(job.waited)
        return jobs

    async def finish(self, job: Job, worker: str, *, ok: bool) -> None:
        """The job is done: its row goes. A delivery that failed is forgotten (GitHub's
        Redeliver runs it again); one that succeeded is remembered."""
        delivery = str(job.args.get("delivery") or "") if job.kind == "delivery" else ""
        if not delivery:
            await self.fetch("DELETE FROM ssot_jobs WHERE id = %s AND worker = %s",
                             (job.id, worker))
        elif ok:
            await self.fetch("WITH j AS (DELETE FROM ssot_jobs WHERE id = %s AND worker = %s) "
                             "UPDATE ssot_deliveries SET state = 'done', at = now() "
                             "WHERE id = %s", (job.id, worker, delivery))
        else:
            await self.fetch("WITH j AS (DELETE FROM ssot_jobs WHERE id = %s AND worker = %s) "
                             "DELETE FROM ssot_deliveries WHERE id = %s",
                             (job.id, worker, delivery))
        self.m_jobs.labels(job.kind, "ok" if ok else "failed").inc()

    async def queue_state(self) -> QueueState:
        rows = await self.fetch(
            "SELECT count(*) FILTER (WHERE status = 'queued'), "
            "count(*) FILTER (WHERE status = 'running'), "
            "coalesce(extract(epoch FROM now() - min(enqueued_at) "
            "FILTER (WHERE status = 'queued')), 0), "
            "coalesce(extract(epoch FROM now() - min(started_at) "
            "FILTER (WHERE status = 'running')), 0) FROM ssot_jobs")
        q, r, oq, orun = rows[0]
        state = QueueState(int(q), int(r), float(oq), float(orun))
        self.m_queue.labels("queued").set(state.queued)
        self.m_queue.labels("running").set(state.running)
        self.m_age.labels("queued").set(state.oldest_queued)
        self.m_age.labels("running").set(state.oldest_running)
        return state

    # workers --------------------------------------------------------------------------------
    async def beat(self, worker: str, running: Sequence[int]) -> None:
        """This worker is alive; a job the table says it runs but it does not (its statement
        was lost while the database was away) is released."""
        rows = await self.fetch("UPDATE ssot_workers SET heartbeat = now() WHERE id = %s "
                                "RETURNING id", (worker,))
        if not rows:  # first beat, or the others took us for dead: our jobs went back
            await self.fetch(
                "INSERT INTO ssot_workers (id, host, pid, role) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET heartbeat = now()",
                (worker, socket.gethostname(), os.getpid(), self.role))
        await self.release(worker, keep=running)

    async def leave(self, worker: str) -> None:
        """A worker that stops: its unfinished jobs go back to the queue at once."""
        await self.release(worker, stray_after=0.0)
        await self.fetch("DELETE FROM ssot_workers WHERE id = %s", (worker,))

    async def sweep(self) -> int:
        """One replica at a time: forget workers silent for :data:`STALE_AFTER` seconds and
        release their jobs; purge old delivery ids and check runs. Jobs released."""
        async with self.connection() as conn, conn.transaction():
            self.m_queries.inc(2)
            cur = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (SWEEP_LOCK,))
            row = await cur.fetchone()
            if not row or not row[0]:
                return 0
            await conn.execute("DELETE FROM ssot_workers WHERE heartbeat < now() - "
                               "make_interval(secs => %s)", (STALE_AFTER,))
        released = await self.release(None)
        if time.monotonic() % 60 < SWEEP_EVERY:  # about once a minute
            await self.fetch("DELETE FROM ssot_deliveries WHERE at < now() - "
                             "make_interval(days => %s)", (DELIVERY_DAYS,))
            await self.fetch("DELETE FROM ssot_check_runs WHERE at < now() - interval '1 day'")
        return released

    async def release(self, worker: str | None, *, keep: Sequence[int] = (),
                      stray_after: float = STRAY_AFTER) -> int:
        """Running jobs of ``worker`` but those in ``keep`` (None: of every worker that is
        gone) go back to the queue; one whose key already has a
        job waiting (it does the same work on newer state), or that was started
        :data:`MAX_ATTEMPTS` times, is dropped instead (a dropped delivery's id is forgotten,
        so it can be redelivered)."""
        try:
            async with self.connection() as conn, conn.transaction():
                self.m_queries.inc()
                cur = await (conn.execute(_STALLED_GONE) if worker is None else
                             conn.execute(_STALLED_MINE, (worker, list(keep), stray_after)))
                rows = await cur.fetchall()
                if not rows:
                    return 0
                drop = [r for r in rows if r[5] or r[4] >= MAX_ATTEMPTS]
                again = [r[0] for r in rows if r not in drop]
                self.m_queries.inc(3)
                if drop:
                    await conn.execute("DELETE FROM ssot_jobs WHERE id = ANY(%s)",
                                       ([r[0] for r in drop],))
                    await conn.execute("DELETE FROM ssot_deliveries WHERE id = ANY(%s)", (
                        [str(r[3].get("delivery")) for r in drop
                         if r[1] == "delivery" and not r[5] and r[3].get("delivery")],))
                if again:
                    await conn.execute(
                        "UPDATE ssot_jobs SET status = 'queued', worker = NULL, "
                        "started_at = NULL WHERE id = ANY(%s)", (again,))
                    await conn.execute("SELECT pg_notify('ssot_jobs', 'all')")
        except psycopg.errors.UniqueViolation:
            return 0  # a job of that key was stored meanwhile: the next sweep decides
        for r in drop:
            log.warning("stalled job dropped", extra={
                "job": r[2], "kind": r[1], "reason": "newer job waiting" if r[5]
                else f"started {r[4]} times"})
        if again:
            log.warning("stalled jobs queued again", extra={"jobs": len(again)})
        return len(rows)

    # locks ----------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def advisory(self, key: Hashable, *, wait: bool = True) -> AsyncIterator[bool]:
        """Hold the session advisory lock of ``key`` on a connection of its own (True), or,
        with ``wait=False``, yield False at once when another session holds it."""
        ident = lock_id(key)
        async with self.connection() as conn:
            self.m_queries.inc()
            if wait:
                await conn.execute("SELECT pg_advisory_lock(%s)", (ident,))
                got = True
            else:
                cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (ident,))
                row = await cur.fetchone()
                got = bool(row and row[0])
            try:
                yield got
            finally:
                if got:
                    self.m_queries.inc()
                    with contextlib.suppress(*DB_ERRORS):  # a lost session released it
                        await conn.execute("SELECT pg_advisory_unlock(%s)", (ident,))

    # check runs, rechecks -------------------------------------------------------------------
    async def check_run(self, repo: str, head_sha: str, name: str) -> int | None:
        rows = await self.fetch("SELECT id FROM ssot_check_runs WHERE repo = %s AND "
                                "head_sha = %s AND name = %s", (repo.lower(), head_sha, name))
        return int(rows[0][0]) if rows else None

    async def remember_check_run(self, repo: str, head_sha: str, name: str,
                                 check_run_id: int) -> None:
        await self.fetch("INSERT INTO ssot_check_runs (repo, head_sha, name, id) VALUES "
                         "(%s, %s, %s, %s) ON CONFLICT (repo, head_sha, name) DO UPDATE SET "
                         "id = EXCLUDED.id, at = now()", (repo.lower(), head_sha, name,
                                                          check_run_id))

    async def forget_check_run(self, repo: str, head_sha: str, name: str,
                               check_run_id: int) -> None:
        await self.fetch("DELETE FROM ssot_check_runs WHERE repo = %s AND head_sha = %s AND "
                         "name = %s AND id = %s", (repo.lower(), head_sha, name, check_run_id))

    async def allow_recheck(self, repo: str, pr: int, user: str, comment_id: int, *,
                            limit: int, window: float) -> bool:
        """At most ``limit`` recheck comments per (repository, PR, user) in ``window`` seconds,
        counted across replicas; a redelivered comment is not counted twice."""
        key = (repo.lower(), pr, user.lower())
        async with self.connection() as conn, conn.transaction():
            self.m_queries.inc(3)
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id(("recheck", *key)),))
            await conn.execute("DELETE FROM ssot_rechecks WHERE repo = %s AND pr = %s AND "
                               "login = %s AND at < now() - make_interval(secs => %s)",
                               (*key, window))
            cur = await conn.execute("SELECT comment_id FROM ssot_rechecks WHERE repo = %s "
                                     "AND pr = %s AND login = %s", key)
            seen = {int(r[0]) for r in await cur.fetchall()}
            if comment_id in seen:
                return True
            if len(seen) >= limit:
                return False
            self.m_queries.inc()
            await conn.execute("INSERT INTO ssot_rechecks (repo, pr, login, comment_id) "
                               "VALUES (%s, %s, %s, %s)", (*key, comment_id))
            return True


class SharedRechecks:
    """:class:`~bot.usecases.recheck.Rechecks` counted in the shared database, so that N
    replicas allow ``RECHECK_LIMIT`` comments per user and PR, not N times as many."""

    def __init__(self, backend: SharedBackend, *, limit: int = RECHECK_LIMIT,
                 window: float = RECHECK_WINDOW) -> None:
        self._backend, self._limit, self._window = backend, limit, window

    async def admit(self, repo: str, pr: int, user: str, comment_id: int) -> bool:
        return await self._backend.allow_recheck(repo, pr, user, comment_id,
                                                 limit=self._limit, window=self._window)


class SharedCheckRuns:
    """:class:`~bot.service.jobs.CheckRuns` in the shared database."""

    def __init__(self, backend: SharedBackend) -> None:
        self.find = backend.check_run
        self.remember = backend.remember_check_run
        self.forget = backend.forget_check_run


class SharedLocks:
    """``bot.issue_locks`` across replicas: the holders in this process queue on an asyncio
    lock first (one connection per key at most), then on the key's advisory lock."""

    def __init__(self, backend: SharedBackend) -> None:
        self._backend = backend
        self._local = KeyedLocks()

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        async with self._local.hold(key), self._backend.advisory(("issue", key)):
            yield


class SharedJobs:
    """``bot.jobs`` in shared mode: a :class:`Durable` job is stored for any replica's worker;
    a job given only as a function runs in this process's own queue, as in one process."""

    def __init__(self, backend: SharedBackend, local: JobQueue) -> None:
        self.backend = backend
        self.local = local

    @property
    def stats(self) -> JobStats:
        return self.local.stats

    @property
    def queued(self) -> int:
        return self.local.queued + self.backend.storing

    @property
    def running(self) -> int:
        return self.local.running

    def submit(self, key: Hashable, fn: JobFn, *, tenant: Hashable = None,
               durable: Durable | None = None) -> str:
        if durable is None:
            return self.local.submit(key, fn, tenant=tenant)
        return self.backend.submit(durable)

    async def join(self) -> None:
        await self.local.join()
        await self.backend.stored()

    async def shutdown(self, grace: float = 25.0) -> None:
        await self.local.shutdown(grace)


class Worker:
    """Runs stored jobs: ``slots`` jobs at once besides up to ``delivery_slots`` deliveries
    (quick: their handlers mostly store jobs), each by its kind's runner."""

    def __init__(self, backend: SharedBackend, runners: Mapping[str, JobRunner], *,
                 slots: int, delivery_slots: int = 16) -> None:
        self.backend = backend
        self.runners = runners
        self.id = backend.worker_id
        self._slots = {True: asyncio.Semaphore(delivery_slots), False: asyncio.Semaphore(slots)}
        self._wake = {True: asyncio.Event(), False: asyncio.Event()}
        self._running: dict[int, asyncio.Task[None]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    async def start(self) -> None:
        await self.backend.beat(self.id, [])
        self._tasks = [asyncio.create_task(c, name=f"ssot-worker-{n}") for n, c in (
            ("listen", self._listen()), ("beat", self._beat()), ("sweep", self._sweep()),
            ("deliveries", self._loop(True)), ("jobs", self._loop(False)))]

    async def stop(self, grace: float = 25.0) -> None:
        """Stop taking jobs; give running ones ``grace`` seconds; put the rest back."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        running = list(self._running.values())
        if running:
            _, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        with contextlib.suppress(DatabaseUnavailable):
            await self.backend.leave(self.id)

    def _poke(self) -> None:
        for event in self._wake.values():
            event.set()

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self.backend.url, autocommit=True,
                        connect_timeout=int(CONNECT_TIMEOUT)) as conn:
                    await conn.execute("LISTEN ssot_jobs")
                    self._poke()  # anything stored while we were not listening
                    async for note in conn.notifies():
                        if note.payload in ("delivery", "job"):
                            self._wake[note.payload == "delivery"].set()
                        else:
                            self._poke()
            except DB_ERRORS:
                await asyncio.sleep(POLL)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                await self.backend.beat(self.id, list(self._running))
            except DatabaseUnavailable:
                log.warning("heartbeat: shared database unreachable")

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            try:
                if await self.backend.sweep():
                    self._poke()
            except DatabaseUnavailable:
                pass
            except Exception:
                log.exception("stalled-job sweep failed")

    async def _loop(self, deliveries: bool) -> None:
        slots, wake = self._slots[deliveries], self._wake[deliveries]
        while not self._stopping:
            await slots.acquire()
            room = 1
            while deliveries and not slots.locked():  # every free delivery slot, at once
                await slots.acquire()
                room += 1
            # cleared before looking, not after finding nothing: a NOTIFY that arrives while
            # the statement runs is kept (it was lost, and the loop slept a POLL, when one
            # NOTIFY announced a whole batch of deliveries)
            wake.clear()
            try:
                await self.backend.web_first()
                jobs = await (self.backend.take_deliveries(self.id, room) if deliveries
                              else self._take_job())
            except DatabaseUnavailable:
                jobs = []
            except BaseException:
                for _ in range(room):
                    slots.release()
                raise
            for _ in range(room - len(jobs)):
                slots.release()
            for job in jobs:
                task = asyncio.create_task(self._run(job, slots), name=f"ssot-job-{job.id}")
                self._running[job.id] = task
            if not jobs:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL):
                        await wake.wait()

    async def _take_job(self) -> list[Job]:
        job = await self.backend.take(self.id, deliveries=False)
        return [job] if job else []

    async def _run(self, job: Job, slots: asyncio.Semaphore) -> None:
        ok = False
        try:
            runner = self.runners.get(job.kind)
            if runner is None:
                log.error("job of an unknown kind dropped", extra={"kind": job.kind})
            else:
                submitted: list[asyncio.Future[str]] = []
                token = _SUBMITTED.set(submitted)
                trigger = _TRIGGER.set(job.id if job.kind == "delivery" else None)
                try:
                    await runner(job.args, job.payload)
                finally:
                    _TRIGGER.reset(trigger)
                    _SUBMITTED.reset(token)
                await asyncio.gather(*submitted)  # what it queued is stored before it is done
                ok = True
        except DatabaseUnavailable:
            # leave the row: our heartbeat (or another replica's sweep) puts it back
            log.warning("job interrupted: shared database unreachable",
                        extra={"job": job.key})
            self._running.pop(job.id, None)
            slots.release()
            return
        except asyncio.CancelledError:
            self._running.pop(job.id, None)
            slots.release()
            raise
        except Exception:
            log.exception("job failed", extra={"job": job.key, "kind": job.kind})
        try:
            await self.backend.finish(job, self.id, ok=ok)
        except DatabaseUnavailable:
            log.warning("job done, but the database is unreachable to say so",
                        extra={"job": job.key})
        finally:
            self._running.pop(job.id, None)
            slots.release()
            self._poke()  # a job of the same key may be waiting for this one


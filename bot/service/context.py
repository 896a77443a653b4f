"""The running service, composed: settings, GitHub access, the job queue, per-issue locks,
metrics, the engine's workers, and the parts each use case receives (built here, once; no use
case or handler sees this object)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any

import aiohttp
from cachetools import LRUCache

from bot import logs
from bot.github.client import GitHub, Repo
from bot.github.ratelimit import RateLimits
from bot.github.retry import RetryPolicy
from bot.handlers.parts import HandlerParts
from bot.service.jobs import JobQueue, Jobs, KeyedLocks
from bot.service.metrics import Metrics
from bot.service.workers import EngineWorkers
from bot.settings import Settings
from bot.state.store import StateStore, open_store
from bot.usecases.analysis import AnalysisParts
from bot.usecases.check_runs import CheckRuns, LocalCheckRuns
from bot.usecases.forget import ForgetParts
from bot.usecases.inventory import InventoryParts
from bot.usecases.modules import BlobCache
from bot.usecases.permissions import Permissions
from bot.usecases.ports import IssueLocks
from bot.usecases.recheck import RecheckLimiter, Rechecks
from bot.usecases.reconcile import PassCounters, ReconcileParts, Reconciler
from bot.usecases.tracking import TrackingParts

if TYPE_CHECKING:
    from bot.service.shared import SharedBackend

log = logging.getLogger(__name__)
GIL_SWITCH_INTERVAL = 0.001  # seconds (Python's default: 0.005)
HANDLER_GRACE = 5.0  # seconds a shutdown waits for handlers of deliveries answered already


class DeliveryLog:
    """Delivery ids handled successfully, recently (bounded: the least recently seen are
    forgotten first), and those being handled now. A failed delivery is forgotten, so that
    GitHub's "Redeliver" (same id) runs it again."""

    def __init__(self, capacity: int = 50_000) -> None:
        self._ids: LRUCache[str, None] = LRUCache(capacity)
        self._running: set[str] = set()

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
        if delivery_id:
            self._ids[delivery_id] = None

    def failed(self, delivery_id: str) -> None:
        self._running.discard(delivery_id)


class Bot:
    def __init__(self, settings: Settings, *, retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self.metrics = Metrics()
        local_jobs = JobQueue(settings.max_concurrent_analyses)
        local_jobs.on_done = self._job_done
        self.jobs: Jobs = local_jobs
        self.issue_locks: IssueLocks = KeyedLocks()
        self.check_runs: CheckRuns = LocalCheckRuns()
        self.rechecks: Rechecks = RecheckLimiter()
        self.deliveries = DeliveryLog()
        # Shared mode (DATABASE_URL, docs/deploy.md): deliveries, jobs, locks, check runs and
        # the store in PostgreSQL; the psycopg extra is imported only then.
        self.shared: SharedBackend | None = None
        if settings.database_url is not None:
            from bot.service import shared

            self.shared = shared.SharedBackend(
                settings.database_url, self.metrics, role=settings.role,
                pool_size=2 * settings.max_concurrent_analyses + 8)
            self.jobs = shared.SharedJobs(self.shared, local_jobs)
            self.issue_locks = shared.SharedLocks(self.shared)
            self.check_runs = shared.SharedCheckRuns(self.shared)
            self.rechecks = shared.SharedRechecks(self.shared)
        self.rate_limits = RateLimits()  # latest x-ratelimit-* per installation (§12 pacing)
        self.reconciler: Reconciler | None = None  # the catch-up pass, when on
        self._tasks: set[asyncio.Future[Any]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._github: GitHub | None = None
        self._store: StateStore | None = None
        # One bounded pool of worker processes for every analysis (0: parse in a thread of
        # this process, for tests)
        self.workers = EngineWorkers(
            settings.workers, concurrency=settings.max_concurrent_analyses,
            memory_mb=settings.worker_memory_mb, metrics=self.metrics)
        self._pass_counters = PassCounters.register(self.metrics.registry)
        permissions = Permissions()
        blobs = BlobCache()  # module texts, per installation within one bound
        analysis = AnalysisParts(
            repo=self.repo, jobs=self.jobs, workers=self.workers, blobs=blobs,
            store=self._state_store, rate_limits=self.rate_limits, check_runs=self.check_runs)
        inventory = InventoryParts(
            repo=self.repo, jobs=self.jobs, workers=self.workers, store=self._state_store,
            issue_locks=self.issue_locks, retry=self.retry)
        tracking = TrackingParts(repo=self.repo, issue_locks=self.issue_locks,
                                 permissions=permissions)
        #: what every webhook handler receives
        self.parts = HandlerParts(
            app_id=settings.app_id, repo=self.repo, analysis=analysis, inventory=inventory,
            tracking=tracking, permissions=permissions, recheck=self.rechecks,
            issue_locks=self.issue_locks,
            forget=ForgetParts(store=self._state_store, blobs=blobs,
                               forget_installation=self._forget_installation))

    @property
    def app_id(self) -> str | None:
        return self.settings.app_id

    def catch_up_parts(self) -> ReconcileParts:
        """What a catch-up pass uses (GitHub access must be configured and started)."""
        return ReconcileParts(
            github=self.github, repo=self.repo, rate_limits=self.rate_limits,
            app_id=self.app_id, jobs=self.jobs, counters=self._pass_counters,
            analysis=self.parts.analysis, tracking=self.parts.tracking,
            singleton=self.singleton)

    @contextlib.asynccontextmanager
    async def singleton(self, name: str) -> AsyncIterator[bool]:
        """True when this process may run the one-at-a-time work ``name`` (the catch-up pass)
        now: always in one process; across replicas, when no other holds it."""
        if self.shared is None:
            yield True
            return
        async with self.shared.advisory(("singleton", name), wait=False) as mine:
            yield mine

    async def start(self) -> None:
        if self.shared is not None:
            await self.shared.open()  # migrates the schema (contract §15)
        await asyncio.to_thread(lambda: self.store)  # opened off the loop, not by a first use
        # the loop's thread waits for the GIL behind the service's own threads (worker results
        # unpickled, findings encoded): up to 5 ms per wait by default, several per answer
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL))
        if self.settings.workers != 0:
            self.spawn(self.workers.warm_up())
        if self.settings.can_call_github and self._github is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
            assert self.settings.app_id is not None and self.settings.private_key is not None
            self._github = GitHub(
                self._session, api_url=self.settings.api_url, app_id=self.settings.app_id,
                private_key=self.settings.private_key, policy=self.retry,
                on_response=self._on_github_response)
        if self._github is not None and self.settings.reconcile_minutes > 0 \
                and self.reconciler is None and self.settings.runs_jobs:
            # docs/behaviour.md §12: catch up at start and every SSOT_RECONCILE_MINUTES
            self.reconciler = Reconciler(self.catch_up_parts(),
                                         interval=self.settings.reconcile_minutes * 60)
            self.reconciler.start()

    async def stop(self) -> None:
        if self.reconciler is not None:
            await self.reconciler.stop()
        await self.drain(grace=25.0)
        if self.shared is not None:
            await self.shared.close()
        if self._session is not None:
            await self._session.close()
        await self.workers.close()

    async def drain(self, grace: float) -> None:
        """Shutting down: the handlers of deliveries already answered 202 finish first (up to
        :data:`HANDLER_GRACE`), so that the jobs they submit are taken; then the running jobs
        get the rest of ``grace`` seconds and the others are cancelled (redelivery and the
        catch-up pass redo them). A second call finds nothing left to wait for."""
        started = time.monotonic()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=min(HANDLER_GRACE, grace))
        await self.jobs.shutdown(grace=max(0.0, grace - (time.monotonic() - started)))
        if self._tasks:  # handlers that were still waiting for GitHub
            await asyncio.wait(list(self._tasks), timeout=5)

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

    def _forget_installation(self, installation_id: int) -> None:
        if self._github is not None:  # without GitHub access there are no tokens
            self._github.forget_installation(installation_id)

    def _state_store(self) -> StateStore:
        return self.store

    @property
    def store(self) -> StateStore:
        """The inventory's on-disk cache (``SSOT_STATE_DIR``), opened on first use."""
        if self._store is None:
            if self.settings.database_url is not None:
                from bot.state.postgres import PostgresStore

                self._store = PostgresStore(self.settings.database_url)
            else:
                self._store = open_store(self.settings.state_dir)
        return self._store

    @store.setter
    def store(self, store: StateStore) -> None:
        self._store = store

    def repo(self, installation_id: int, full_name: str) -> Repo:
        if self._github is None:
            raise RuntimeError("GitHub access is not configured (APP_ID and PRIVATE_KEY)")
        return self._github.repo(installation_id, full_name)

    def _job_done(self, key: object, duration: float, error: BaseException | None) -> None:
        self.metrics.analysis_seconds.labels("error" if error else "ok").observe(duration)

    def _on_github_response(self, method: str, url: str, status: int | None,
                            headers: Any) -> None:
        installation = (logs.current().get("installation"))
        self.metrics.github_response(method, status, headers,
                                     str(installation) if installation else None)
        self.rate_limits.observe(str(installation) if installation else None, url, headers)


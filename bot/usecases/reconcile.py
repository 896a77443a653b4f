"""The catch-up pass (docs/behaviour.md §12): nothing is lost while the bot is down.

GitHub does not redeliver webhooks on its own, so at start and every
``SSOT_RECONCILE_MINUTES`` the bot looks at the world instead of at events: for each
installation, the pull requests updated in the last 24 hours (newest first); an open PR whose
head has no completed check run of this App is analysed through the normal coalescing queue
(this also finds an analysis cut off by a crash: its check run is still ``in_progress``), and
its tracking links get the open/edit move (PENDING -> IN PROGRESS) a PR opened while the bot
was down never got; a
merged PR's tracking links are applied in catch-up mode (idempotent through the issue's ticks
and the step-done marker, so a second pass says nothing twice).

Bounded: at most ``max_prs`` (100) PRs and ``max_requests`` (200) requests per installation per
pass, installations in turn (docs/behaviour.md §13): each installation is visited by a task of
its own, and the tasks take turns, one step (one request, or a few for a merge) at a time, so an
installation with 300 repositories and no PRs never delays the next one's visit. An installation
whose request budget runs out resumes at the repository where it stopped on the next pass. The
pass's requests are paced under each installation's rate limit
(:func:`bot.github.ratelimit.pace`, waited for outside the turn) and an installation whose
rate limit runs low is left for the next pass. One summary log line per pass; counters in
``/metrics``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import aiohttp
import gidgethub
from prometheus_client import CollectorRegistry, Counter

from bot import logs
from bot.github.ratelimit import STOP, RateLimits
from bot.usecases.analysis import AnalysisParts, submit_analysis
from bot.usecases.ports import Installations, Jobs, RepoFor
from bot.usecases.tracking import TrackingParts, apply_merge, apply_start, pr_links

log = logging.getLogger(__name__)

WINDOW = dt.timedelta(hours=24)
MAX_PRS_PER_INSTALLATION = 100
MAX_REQUESTS_PER_INSTALLATION = 200  # the pass's own requests (not the analyses it queues)
MERGE_REQUESTS = 6  # applying a merge's links, about (issue, edit, read-back, comments, comment)
START_REQUESTS = 7  # the open/edit move, about (permission, config, issue, edit, read-back, ...)
ANALYSIS_REQUESTS = 12  # what one analysis costs, about (pull, config, files, blobs, check, review)
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class PassStats:
    """What one pass did (the summary log line)."""

    installations: int = 0
    repositories: int = 0
    pull_requests: int = 0  # listed (updated in the window), at most max_prs per installation
    analysed: int = 0  # open PRs without a completed check run, submitted for analysis
    up_to_date: int = 0  # open PRs whose head has a completed check run of this App
    merges: int = 0  # merged PRs with tracking links, applied (idempotently)
    started: int = 0  # open PRs analysed by the pass whose linked steps were moved (open/edit)
    cut_at_bound: int = 0  # installations whose PRs reached the bound
    cut_at_budget: int = 0  # installations whose requests reached the budget (resume next pass)
    requests: int = 0  # the pass's own requests, every installation
    rate_limited: int = 0  # installations left for the next pass (rate limit low)
    errors: int = 0
    paced_seconds: float = 0.0


@dataclass(frozen=True)
class PassCounters:
    """The catch-up pass's metrics."""

    passes: Counter
    analysed: Counter
    merges: Counter
    rate_limited: Counter

    @classmethod
    def register(cls, registry: CollectorRegistry) -> PassCounters:
        """The counters, registered in ``registry`` (once per registry: the service's)."""
        return cls(
            Counter("ssot_reconcile_passes", "Catch-up passes by outcome", ["outcome"],
                    registry=registry),
            Counter("ssot_reconcile_prs_analysed", "Open PRs the catch-up pass sent to analysis",
                    registry=registry),
            Counter("ssot_reconcile_merges_applied",
                    "Merged PRs whose tracking links the catch-up pass applied",
                    registry=registry),
            Counter("ssot_reconcile_rate_limited",
                    "Installations a pass left for later (rate limit low)", registry=registry))


@dataclass(frozen=True)
class ReconcileParts:
    """What a catch-up pass uses."""

    github: Installations
    repo: RepoFor
    rate_limits: RateLimits  # latest x-ratelimit-* per installation (the pacing)
    app_id: str | None
    jobs: Jobs
    counters: PassCounters
    analysis: AnalysisParts
    tracking: TrackingParts
    # one pass at a time across replicas (shared mode): ``singleton(name)`` yields whether this
    # process may run it now; one process always may
    singleton: Callable[[str], AbstractAsyncContextManager[bool]] = field(
        default=lambda _name: contextlib.nullcontext(True))


class Reconciler:
    """Runs catch-up passes for one running service: at start, then every ``interval`` seconds.

    ``sleep`` and ``clock`` are injectable so tests never wait; ``max_prs`` and
    ``max_requests`` are the bounds per installation and pass.
    """

    def __init__(self, parts: ReconcileParts, *, interval: float, sleep: Sleep = asyncio.sleep,
                 clock: Callable[[], float] = time.time,
                 max_prs: int = MAX_PRS_PER_INSTALLATION,
                 max_requests: int = MAX_REQUESTS_PER_INSTALLATION) -> None:
        self.parts = parts
        self.interval = interval
        self.sleep = sleep
        self.clock = clock
        self.max_prs = max_prs
        self.max_requests = max_requests
        self._resume: dict[int, str] = {}  # installation -> repository to start the next pass at
        self._turn = asyncio.Lock()  # FIFO: the installations' steps alternate
        self.passes = 0
        self.last: PassStats | None = None
        self._done = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._merged_seen: dict[tuple[str, int], float] = {}  # applied merges, by merge time
        self.counters = parts.counters

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="ssot-reconcile")

    async def stop(self) -> None:
        """Cancel the loop (a pass in flight stops where it is: every step is idempotent)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_passes(self, count: int) -> PassStats:
        """Wait until ``count`` passes have finished (tests); the latest pass's stats."""
        async with self._done:
            await self._done.wait_for(lambda: self.passes >= count)
        assert self.last is not None
        return self.last

    async def _loop(self) -> None:
        while True:
            try:
                # one pass at a time across replicas (shared mode): the others skip theirs
                async with self.parts.singleton("catch-up pass") as mine:
                    if mine:
                        await self.run_pass()
                    else:
                        log.info("catch-up pass skipped: another replica runs one")
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad pass must not end catching up
                log.exception("catch-up pass failed")
            await self.sleep(self.interval)

    # one pass ---------------------------------------------------------------------------------
    async def run_pass(self) -> PassStats:
        stats = PassStats()
        started = time.perf_counter()
        since = dt.datetime.fromtimestamp(self.clock(), dt.UTC) - WINDOW
        self._forget_before(since)
        github = self.parts.github
        outcome = "ok"
        try:
            active = [int(i["id"]) for i in await github.installations()
                      if not i.get("suspended_at")]
            stats.installations = len(active)
            # one task per installation (its own log context), taking turns step by step
            await asyncio.gather(*(self._installation(i, since, stats) for i in active))
        except (gidgethub.GitHubException, aiohttp.ClientError, TimeoutError) as exc:
            outcome = "error"
            stats.errors += 1
            log.warning("catch-up pass could not list installations",
                        extra={"error": type(exc).__name__})
        except asyncio.CancelledError:
            outcome = "cancelled"  # the service is stopping; the next start catches up
            raise
        except Exception:  # a bug, not GitHub: say so, and let the next pass try again
            outcome = "error"
            stats.errors += 1
            log.exception("catch-up pass failed")
        finally:
            self.counters.passes.labels(outcome).inc()
            log.info("catch-up pass", extra={
                "outcome": outcome, **asdict(stats),
                "paced_seconds": round(stats.paced_seconds, 2),
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        self.last = stats
        async with self._done:
            self.passes += 1
            self._done.notify_all()
        return stats

    async def _installation(self, installation_id: int, since: dt.datetime,
                            stats: PassStats) -> None:
        token = logs.bind(installation=installation_id)  # rate-limit readings and log lines
        visit = _Visit(self, installation_id, stats)
        budget = self.max_prs
        try:
            repos = await visit.step(
                functools.partial(self.parts.github.installation_repositories, installation_id),
                cost=_pages)
            stats.repositories += len(repos)
            for repo_data in self._rotated(installation_id, repos):
                full_name = str(repo_data["full_name"])
                if budget <= 0:
                    break
                if not visit.affords(1):
                    self._cut_at_budget(installation_id, full_name, stats)
                    return
                if not await self._pace(visit.key, stats):
                    return
                repo = self.parts.repo(installation_id, full_name)
                pulls = await visit.step(functools.partial(repo.pulls_updated_since, since,
                                                           budget))
                budget -= len(pulls)
                stats.pull_requests += len(pulls)
                if budget <= 0:
                    stats.cut_at_bound += 1  # the rest waits for a later pass
                for pr in pulls:
                    cost = 1 if pr.get("state") == "open" else (
                        MERGE_REQUESTS if pr.get("merged_at") else 0)
                    if not visit.affords(cost):
                        self._cut_at_budget(installation_id, full_name, stats)
                        return
                    if not await self._pace(visit.key, stats):
                        return
                    try:
                        await self._pull(visit, installation_id, full_name, pr, stats)
                    except _RateLimited:
                        return
                    except (gidgethub.GitHubException, aiohttp.ClientError,
                            TimeoutError) as exc:
                        stats.errors += 1
                        log.warning("catch-up could not handle a pull request", extra={
                            "repo": full_name, "pr": pr.get("number"),
                            "error": type(exc).__name__})
                    except Exception:  # one PR's surprise must not end the pass
                        stats.errors += 1
                        log.exception("catch-up could not handle a pull request", extra={
                            "repo": full_name, "pr": pr.get("number")})
            self._resume.pop(installation_id, None)  # every repository seen: start over
        except (gidgethub.GitHubException, aiohttp.ClientError, TimeoutError) as exc:
            stats.errors += 1
            log.warning("catch-up could not list an installation's pull requests",
                        extra={"error": type(exc).__name__})
        finally:
            logs.unbind(token)

    def _rotated(self, installation_id: int,
                 repos: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``repos`` from the one the last pass's budget stopped at, then the rest."""
        start = self._resume.get(installation_id)
        names = [str(r.get("full_name")) for r in repos]
        if start is None or start not in names:
            return repos
        at = names.index(start)
        return repos[at:] + repos[:at]

    def _cut_at_budget(self, installation_id: int, full_name: str, stats: PassStats) -> None:
        self._resume[installation_id] = full_name
        stats.cut_at_budget += 1
        log.info("catch-up: this installation's requests for the pass are spent; the next "
                 "pass resumes here", extra={"repo": full_name, "budget": self.max_requests})

    async def _pace(self, installation: str, stats: PassStats, cost: int = 1) -> bool:
        """Wait as the installation's rate limit asks before a step of ``cost`` requests;
        False: stop this installation until the next pass."""
        delay = self.parts.rate_limits.delay(installation, cost)
        if delay == STOP:
            stats.rate_limited += 1
            self.counters.rate_limited.inc()
            reading = self.parts.rate_limits.reading(installation)
            log.info("catch-up paused for this installation: rate limit low", extra={
                "remaining": reading.remaining if reading else None})
            return False
        if delay > 0:
            stats.paced_seconds += delay
            await self.sleep(delay)
        return True

    async def _pull(self, visit: _Visit, installation_id: int, full_name: str,
                    pr: dict[str, Any], stats: PassStats) -> None:
        number = int(pr["number"])
        if pr.get("state") == "open":
            repo = self.parts.repo(installation_id, full_name)
            runs = await visit.step(functools.partial(
                repo.app_check_runs, str(pr["head"]["sha"]), str(self.parts.app_id)))
            if runs and all(run.get("status") == "completed" for run in runs):
                stats.up_to_date += 1
                return
            # analyses already waiting spend this installation's budget too
            pending = self.parts.jobs.queued + self.parts.jobs.running + 1
            if not await self._pace(str(installation_id), stats, ANALYSIS_REQUESTS * pending):
                raise _RateLimited
            submit_analysis(self.parts.analysis, installation_id, full_name, number)
            stats.analysed += 1
            self.counters.analysed.inc()
            if await _has_links(full_name, pr):  # opened while the bot was down: the open/edit move
                await visit.step(functools.partial(
                    apply_start, self.parts.tracking, installation_id, full_name, pr),
                    cost=lambda _: START_REQUESTS)
                stats.started += 1
            return
        if not pr.get("merged_at"):
            return  # closed without merging
        seen = (full_name.lower(), number)
        if seen in self._merged_seen:
            return  # applied by an earlier pass of this process; a merge is final
        if await _has_links(full_name, pr):
            await visit.step(functools.partial(
                apply_merge, self.parts.tracking, installation_id, full_name, pr, catch_up=True),
                cost=lambda _: MERGE_REQUESTS)
            stats.merges += 1
            self.counters.merges.inc()
        self._merged_seen[seen] = _timestamp(pr.get("merged_at"))

    def _forget_before(self, since: dt.datetime) -> None:
        cutoff = since.timestamp()
        for key in [k for k, at in self._merged_seen.items() if at < cutoff]:
            del self._merged_seen[key]


async def _has_links(full_name: str, pr: dict[str, Any]) -> bool:
    """The PR's body names tracking steps (or a link the bot would report)."""
    links, problems = await pr_links(full_name, pr)
    return bool(links or problems)


_T = TypeVar("_T")


def _pages(items: list[Any]) -> int:
    """Requests a listing of ``items`` took (100 a page)."""
    return max(1, -(-len(items) // 100))


def _one(_: object) -> int:
    return 1


class _Visit:
    """One installation's visit in a pass: its request budget, and its turns (each step runs
    while holding the pass's FIFO lock, so installations alternate step by step)."""

    def __init__(self, reconciler: Reconciler, installation_id: int, stats: PassStats) -> None:
        self.reconciler = reconciler
        self.key = str(installation_id)
        self.stats = stats
        self.spent = 0

    def affords(self, cost: int) -> bool:
        return self.spent + cost <= self.reconciler.max_requests

    async def step(self, call: Callable[[], Awaitable[_T]],
                   cost: Callable[[_T], int] = _one) -> _T:
        async with self.reconciler._turn:
            result = await call()
        spent = cost(result)
        self.spent += spent
        self.stats.requests += spent
        return result


class _RateLimited(Exception):
    """This installation's budget is spent for this pass."""


def _timestamp(value: Any) -> float:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return time.time()


__all__ = ["MAX_PRS_PER_INSTALLATION", "MAX_REQUESTS_PER_INSTALLATION", "PassCounters",
           "PassStats", "ReconcileParts", "Reconciler"]

"""Many files through the engine, in worker processes, each file under a time budget, each
worker under a memory ceiling.

libcst's parser is native code that no signal interrupts (a 20,000-term expression keeps it busy
for minutes, a 5 MB file can take 2 GB), so every file that needs parsing goes to a worker
process the parent can kill: past ``config.file_time_budget`` the worker is killed and replaced
and the file becomes a :class:`FileError`; a worker that dies (its memory ceiling,
``RLIMIT_AS``, reached, or killed from outside) is replaced and its file becomes a
:class:`FileError`; the run goes on. Files no rule can match are settled in the parent without
a worker.

:class:`EnginePool` is one bounded pool: the service builds one at start and every analysis
shares it (a PR cannot multiply processes); ``ssot-bot check`` builds its own for ``--jobs``.

Why pebble: its ``ProcessPool`` does what the hand-written pool did (per-task timeouts that
kill and replace the worker, replacement of dead workers, a worker initialiser) and a
cancelled future stops its worker, which is what an analysis past its own time budget needs.
Measured on 300 stdlib files with 2 workers (``benchmarks/engine.py --pool 2 --limit 300``,
and the two pools run alternately on the loaded 2-core machine): pre-filter on, hand-written
3.26 / 5.35 s, pebble 2.79 / 5.74 s; pre-filter off (every file parsed), hand-written 27.1 /
34.3 s, pebble 20.5 / 31.0 s; the same 36 violations. Pebble costs the parent ~0.2 s more CPU
per 300 parsed files (its feeder threads, the configuration sent with each task), well inside
the run-to-run noise, so the measurement gives no reason to keep the hand-written pool.

Fair between installations (docs/behaviour.md §13): the service's analyses of different
installations share the workers in turn, not first come first served. :class:`FairDispatch`
keeps one queue per *tenant* (an installation) and hands pebble at most one task per worker,
each time from the tenant with the fewest tasks running (ties: round robin), so one PR's 3,000
files never sit in front of another installation's one file. The pool keeps one worker more
than ``workers``, for a tenant that has nothing running: it starts at once on a warm worker
(B behind a PR holding both workers: 5.6-9.5 s when a worker had to be stopped and started for
it, 0.1-0.2 s this way). Only when that one is taken too does a tenant with nothing running take
a worker back from one holding two or more (or all of them): the newest task of the busiest
tenant is stopped and queued again at the front of its tenant's queue (its work so far is lost;
its own budget starts again when it runs again), so the newcomer waits for no file of someone
else's, however long its budget.

The configuration travels with each task as a pickled blob, compressed (a few KB; 29 KB for
sympy's 2,222 re-exports, 189 KB before it was compressed: more than a pipe holds, so each
hand-over waited for the worker to read it), unpickled once per worker and analysis, keyed by
its digest, since analyses of different repositories share the workers.

``ssot-bot check`` (:func:`analyse_files` with a pool of its own) hands the workers each file
as soon as the pre-filter keeps it, and keeps one more file per worker queued in pebble's
channel, so that a worker that finishes one file reads the next at once instead of waiting for
this process to hear of it and send another (1.5 ms a file, ~0.9 s of each worker's 3.9 s on
sympy). The service's pool hands out one file per worker at a time (:class:`FairDispatch`: a
file queued there could not be given to another installation's newcomer).

``ssot-bot check`` also hands the largest files out first (the last ones the workers take are
small, and they finish together), and files under :data:`SMALL_FILE` several to a task
(:meth:`EnginePool.submit_group`: pebble's hand-over costs ~0.5 ms of the parent's and the
worker's time a task, as much as a small file's analysis); a group past its budget, or whose
worker died, runs again file by file, so only the culprit fails.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import hashlib
import itertools
import logging
import os
import pickle
import queue
import signal
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from types import FrameType
from typing import Any, TypeVar

import pebble

from bot.config.model import Config
from bot.engine import collector
from bot.engine.model import FileError, FileResult
from bot.engine.processes import context
from bot.engine.processes import warm_up as warm_up  # the service and ssot-bot check call it here
from bot.engine.run import analyse_text, holds_symbol_word, plan_words

DEFAULT_WORKER_MEMORY_MB = 1536
_R = TypeVar("_R")
_A = TypeVar("_A", bound=tuple[object, ...])
_D = TypeVar("_D")
log = logging.getLogger(__name__)

#: ``ssot-bot check`` hands the workers files under this many characters several to a task, up
#: to GROUP_FILES files or GROUP_SIZE characters: pebble's hand-over costs the parent and the
#: worker ~0.5 ms a task, as much as analysing a small file (sympy, 8 -> 32 KB files and 32 ->
#: 64 KB a task: ~760 tasks -> ~370; py-spy, the parent's pebble threads 1.9 -> 0.7 s and the
#: workers' hand-over 1.2 -> 0.7 s of samples)
SMALL_FILE = 32 * 1024
GROUP_FILES = 32
GROUP_SIZE = 64 * 1024

# path, text, indexes into config.rules, ast gate on (the prefilter's second stage)
_Task = tuple[str, str, tuple[int, ...], bool]


def budget_message(budget: float) -> str:
    return f"analysis exceeded the {budget:g} s time budget"


def crash_message(memory_mb: int | None) -> str:
    ceiling = f" (memory ceiling {memory_mb} MB)" if memory_mb else ""
    return f"analysis crashed: the worker process died{ceiling}"


def memory_message(memory_mb: int | None) -> str:
    ceiling = f" of {memory_mb} MB" if memory_mb else ""
    return f"analysis needs more memory than the worker's ceiling{ceiling}"


# ------------------------------------------------------------------------------- workers

_CONFIGS: dict[str, Config] = {}
_MEMORY_MB: int | None = None


# how much lower than the service a worker runs (``nice``): on a machine with as many cores as
# workers, a hostile PR keeps every core busy parsing, and the service's event loop (webhook
# answers, /healthz) waited its turn behind them: 0.5-0.9 s answers on 2 cores (issue 18)
WORKER_NICENESS = 10


def _init_worker(memory_mb: int | None) -> None:
    """Worker initialiser: ignore SIGINT (the parent decides), die at once on SIGTERM, run at a
    lower priority than the service (:data:`WORKER_NICENESS`), set the memory ceiling and the
    collector for many parses (:func:`bot.engine.collector.for_batch`).

    pebble stops a worker (a task past its budget, cancelled, or taken back for another
    installation) with SIGTERM, then waits up to 3 s before SIGKILL; its own SIGTERM handler is
    Python code, which never runs while libcst's native parser holds the thread, so every stop
    cost those 3 s, and pebble's pool manager dispatched nothing meanwhile. The default action
    ends the process at once (it holds nothing to clean up)."""
    global _MEMORY_MB
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _MEMORY_MB = memory_mb
    with contextlib.suppress(OSError):  # a platform without nice keeps the default priority
        os.nice(WORKER_NICENESS)
    if memory_mb:
        import resource

        limit = memory_mb * 1024 * 1024
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    collector.for_batch()


def _work(key: str, blob: bytes, task: _Task) -> FileResult:
    """One file in a worker. The config is unpickled once per worker and configuration."""
    config = _CONFIGS.get(key)
    if config is None:
        if len(_CONFIGS) >= 8:
            _CONFIGS.clear()
        # our own parent's pickle
        config = _CONFIGS[key] = pickle.loads(zlib.decompress(blob))  # noqa: S301
    path, text, rule_ids, gate = task
    try:
        rules = tuple(config.rules[k] for k in rule_ids)
        return analyse_text(path, text, config, rules, gate=gate)
    except MemoryError:
        return FileResult(path, error=FileError(path, memory_message(_MEMORY_MB)))
    except Exception as exc:  # one bad file must not end the run
        return FileResult(path, error=FileError(path, f"internal error: {type(exc).__name__}"))


def _work_many(calls: list[tuple[str, bytes, _Task]]) -> list[FileResult]:
    """Several small files in one task (:meth:`EnginePool.submit_group`)."""
    return [_work(*call) for call in calls]


def portable(config: Config) -> Config:
    """The config with plain dicts for its mappings, and its rules' (a read-only mapping proxy
    cannot be pickled to a worker). Rule order is kept: tasks name rules by index."""
    return replace(_plain_mappings(config),
                   rules=tuple(_plain_mappings(r) for r in config.rules))


def _plain_mappings(item: _D) -> _D:
    """``item`` (a dataclass) with each field that holds a mapping other than a dict as a dict."""
    changed = {f.name: dict(value) for f in fields(item)  # type: ignore[arg-type]
               if isinstance(value := getattr(item, f.name), Mapping) and type(value) is not dict}
    return replace(item, **changed) if changed else item  # type: ignore[type-var]


@dataclass
class Batch:
    """One call's files in the pool: results fill in as workers finish."""

    paths: list[str]
    results: list[FileResult | None]
    futures: dict[concurrent.futures.Future[FileResult], int] = field(default_factory=dict)
    budget: float = 0.0
    memory_mb: int | None = None
    on_result: Callable[[FileResult], None] | None = None
    # indexes of the files queued whose text names a word of one of their rules: such a file
    # that cannot be analysed fails the check (docs/behaviour.md §13)
    worded: set[int] = field(default_factory=set)

    def done(self, index: int, result: FileResult) -> None:
        error = result.error
        if error is not None and not error.blocking and index in self.worded:
            result = replace(result, error=replace(error, blocking=True))
        self.results[index] = result
        if self.on_result is not None:
            self.on_result(result)

    def wait(self) -> list[FileResult]:
        """Block until every file is settled (or the batch cancelled); input order.

        Each future hands itself to one queue as it finishes (``concurrent.futures.wait`` with
        ``FIRST_COMPLETED`` set up a waiter on every pending future each time one finished:
        O(n²), ~0.4 s of this process's CPU on sympy's 1,200 files while the workers ran)."""
        finished: queue.SimpleQueue[concurrent.futures.Future[FileResult]] = queue.SimpleQueue()
        for future in self.futures:
            future.add_done_callback(finished.put)
        for _ in range(len(self.futures)):
            future = finished.get()
            index = self.futures[future]
            self.done(index, self._outcome(future, self.paths[index]))
        return [r if r is not None else FileResult(self.paths[i])
                for i, r in enumerate(self.results)]

    def _outcome(self, future: concurrent.futures.Future[FileResult], path: str) -> FileResult:
        if future.cancelled():
            return FileResult(path, error=FileError(path, "analysis cancelled"))
        exc = future.exception()
        if exc is None:
            return future.result()
        if isinstance(exc, concurrent.futures.TimeoutError | TimeoutError):
            message = budget_message(self.budget)
        elif isinstance(exc, pebble.ProcessExpired):
            message = crash_message(self.memory_mb)
        elif isinstance(exc, MemoryError):
            message = memory_message(self.memory_mb)
        else:
            message = f"internal error: {type(exc).__name__}"
        return FileResult(path, error=FileError(path, message))

    def cancel(self) -> None:
        """Stop this batch: queued files are dropped, running ones have their worker stopped."""
        for future in self.futures:
            future.cancel()


@dataclass(eq=False)
class _Pending:
    """One call waiting for, or running in, a worker."""

    tenant: Hashable
    fn: Callable[..., object]
    args: tuple[object, ...]
    timeout: float
    outer: concurrent.futures.Future[object]
    inner: concurrent.futures.Future[object] | None = None
    preempted: bool = False


class FairDispatch:
    """Calls per tenant, fed to the workers in turn (at most one per worker at a time).

    ``schedule(fn, args, timeout)`` is pebble's ``ProcessPool.schedule``; the futures handed
    out are this class's own, so that a call can wait here (and be stopped and queued again)
    without its caller knowing. Thread-safe: futures finish on pebble's threads."""

    def __init__(self, workers: int,
                 schedule: Callable[..., concurrent.futures.Future[object]], *,
                 reserve: int = 0) -> None:
        self.workers = max(1, workers)
        self.reserve = max(0, reserve)  # more workers, only for tenants with nothing running
        self._schedule = schedule
        self._lock = threading.RLock()
        self._queues: dict[Hashable, deque[_Pending]] = {}
        self._order: deque[Hashable] = deque()  # tenants with calls waiting, in turn
        self._running: dict[Hashable, list[_Pending]] = {}
        self._busy = 0
        self._evicting = 0  # calls stopped for a newcomer whose worker is not free yet
        self.preemptions = 0

    def submit(self, tenant: Hashable, fn: Callable[..., _R], args: tuple[object, ...],
               timeout: float) -> concurrent.futures.Future[_R]:
        outer: concurrent.futures.Future[object] = concurrent.futures.Future()
        pending = _Pending(tenant, fn, args, timeout, outer)
        with self._lock:
            self._queues.setdefault(tenant, deque()).append(pending)
            if tenant not in self._order:
                self._order.append(tenant)
        outer.add_done_callback(functools.partial(self._outer_done, pending))
        self._pump()
        return outer  # type: ignore[return-value]

    def running(self, tenant: Hashable) -> int:
        with self._lock:
            return len(self._running.get(tenant, ()))

    def waiting(self, tenant: Hashable) -> int:
        with self._lock:
            return sum(not p.outer.done() for p in self._queues.get(tenant, ()))

    def cancel_waiting(self, futures: Iterable[concurrent.futures.Future[Any]]) -> None:
        """Cancel those of ``futures`` (this dispatcher's) still waiting for a worker; the
        running ones go on (cancelling one stops its worker)."""
        wanted = {id(f) for f in futures}
        with self._lock:  # held: none of them can start meanwhile
            for queue_ in self._queues.values():
                for pending in queue_:
                    if id(pending.outer) in wanted and pending.inner is None:
                        pending.outer.cancel()

    def cancel_all(self) -> None:
        with self._lock:
            queued = [p for q in self._queues.values() for p in q]
            self._queues.clear()
            self._order.clear()
        for pending in queued:
            pending.outer.cancel()

    # ----------------------------------------------------------------------- internals
    def _next_tenant(self) -> Hashable | None:
        """The waiting tenant with the fewest calls running; ties in turn (round robin)."""
        best: Hashable | None = None
        fewest = -1
        for tenant in self._order:
            count = len(self._running.get(tenant, ()))
            if best is None or count < fewest:
                best, fewest = tenant, count
        return best

    def _pump(self) -> None:
        with self._lock:
            while self._order:
                tenant = self._next_tenant()
                idle = not self._running.get(tenant)
                if self._busy >= self.workers + (self.reserve if idle else 0):
                    break
                queue = self._queues[tenant]
                pending = queue.popleft()
                self._order.remove(tenant)
                if queue:
                    self._order.append(tenant)  # to the back: its turn is taken
                else:
                    del self._queues[tenant]
                if pending.outer.done():
                    continue  # cancelled while it waited
                self._busy += 1
                self._running.setdefault(tenant, []).append(pending)
                inner = self._schedule(pending.fn, args=pending.args, timeout=pending.timeout)
                pending.inner = inner
                if pending.outer.done():
                    inner.cancel()  # cancelled just now, by another thread
                inner.add_done_callback(functools.partial(self._inner_done, pending))
            self._preempt()

    def _preempt(self) -> None:
        """Take a worker back for each waiting tenant that has none while another tenant
        holds two or more (or every worker). Called with the lock held."""
        if self._busy < self.workers + self.reserve:
            return
        starving = sum(1 for t in self._order if not self._running.get(t))
        while starving > self._evicting:
            victim = max(self._running.items(), key=lambda kv: len(kv[1]), default=None)
            if victim is None:
                return
            tenant, calls = victim
            live = [p for p in calls if not p.preempted]
            if not live or not (len(live) >= 2 or len(live) >= self.workers + self.reserve):
                return
            newest = live[-1]
            assert newest.inner is not None
            newest.preempted = True
            self._evicting += 1
            self.preemptions += 1
            log.info("worker taken back for another installation",
                     extra={"tenant": str(tenant)})
            newest.inner.cancel()

    def _inner_done(self, pending: _Pending, _: object = None) -> None:
        inner = pending.inner
        assert inner is not None
        with self._lock:
            calls = self._running.get(pending.tenant, [])
            if pending in calls:
                calls.remove(pending)
            if not calls:
                self._running.pop(pending.tenant, None)
            self._busy -= 1
            # (a call that finished just as it was stopped keeps its result)
            requeue = pending.preempted and inner.cancelled() and not pending.outer.done()
            if pending.preempted:
                self._evicting -= 1
            if requeue:  # stopped for a newcomer: first in its tenant's queue again
                pending.preempted = False
                pending.inner = None
                self._queues.setdefault(pending.tenant, deque()).appendleft(pending)
                if pending.tenant not in self._order:
                    self._order.append(pending.tenant)
        if not requeue:
            _settle(pending.outer, inner)
        self._pump()

    def _outer_done(self, pending: _Pending, _: object = None) -> None:
        if pending.outer.cancelled() and pending.inner is not None:
            pending.inner.cancel()  # running: its worker is stopped


def _resolve(future: concurrent.futures.Future[_R], result: _R) -> None:
    with contextlib.suppress(concurrent.futures.InvalidStateError):  # cancelled meanwhile
        future.set_result(result)


def _settle(outer: concurrent.futures.Future[Any],
            inner: concurrent.futures.Future[Any]) -> None:
    """Hand ``inner``'s outcome to ``outer`` (unless ``outer`` was cancelled already)."""
    if outer.done():
        return
    try:
        if inner.cancelled():
            outer.cancel()
        elif (exc := inner.exception()) is not None:
            outer.set_exception(exc)
        else:
            outer.set_result(inner.result())
    except concurrent.futures.InvalidStateError:
        pass  # cancelled by its caller meanwhile


class EnginePool:
    """A bounded pool of engine worker processes (pebble), each with a memory ceiling."""

    def __init__(self, workers: int, *, memory_mb: int | None = DEFAULT_WORKER_MEMORY_MB,
                 reserve: bool = False, queued: int = 0) -> None:
        """``reserve``: one more worker, kept for tenants with nothing running (the service,
        which serves many installations; ``ssot-bot check`` has one tenant). ``queued``: calls
        handed to pebble beyond one per worker, waiting in its channel for the first worker
        free (one tenant only: a queued call is no longer the dispatcher's to give to
        another)."""
        self.workers = max(1, workers)
        self.memory_mb = memory_mb
        self._pool: pebble.ProcessPool | None = None
        self._lock = threading.Lock()
        self.reserve = 1 if reserve else 0
        self.fair = FairDispatch(self.workers + max(0, queued), self._pebble_schedule,
                                 reserve=self.reserve)

    def _get(self) -> pebble.ProcessPool:
        with self._lock:
            if self._pool is None:
                self._pool = pebble.ProcessPool(
                    max_workers=self.workers + self.reserve, initializer=_init_worker,
                    initargs=(self.memory_mb,), context=context())
            return self._pool

    @classmethod
    def for_command(cls, workers: int | None, files: int, *,
                    memory_mb: int | None = DEFAULT_WORKER_MEMORY_MB) -> EnginePool | None:
        """A command's own pool (``ssot-bot check --jobs``): ``workers`` processes (None: one
        per CPU), no more than ``files``, each with one more file queued (the module doc);
        None when that is none: everything in the calling process."""
        count = (os.cpu_count() or 1) if workers is None else max(0, workers)
        size = min(count, files)
        return cls(size, memory_mb=memory_mb, queued=size) if size else None

    def _pebble_schedule(self, fn: Callable[..., object], *, args: tuple[object, ...],
                         timeout: float) -> concurrent.futures.Future[object]:
        future: concurrent.futures.Future[object] = self._get().schedule(
            fn, args=args, timeout=timeout)
        return future

    def start(
        self, files: Iterable[tuple[str, bytes]], config: Config, *, prefilter: bool = True,
        on_result: Callable[[FileResult], None] | None = None, tenant: Hashable = None,
    ) -> Batch:
        """Plan every file (pre-filter in this thread) and queue those that need a worker, in
        ``tenant``'s queue (an installation: tenants take the workers in turn)."""
        items = list(files)
        batch = Batch([p for p, _ in items], [None] * len(items), on_result=on_result)
        self.schedule(batch, _plan(items, config, prefilter, batch), config, tenant=tenant)
        return batch

    def schedule(self, batch: Batch, tasks: Iterable[tuple[int, _Task]], config: Config, *,
                 tenant: Hashable = None, group: bool = False) -> None:
        """Queue ``tasks``, each as it comes (an iterator: the workers start on the first ones
        while the caller plans the rest). ``group``: files under :data:`SMALL_FILE` characters
        go several to a task (:meth:`submit_group`; ``ssot-bot check``'s own pool)."""
        budget = config.file_time_budget
        batch.budget = budget
        batch.memory_mb = self.memory_mb
        args: tuple[str, bytes] | None = None
        small: list[tuple[int, tuple[str, bytes, _Task]]] = []
        size = 0

        def send_small() -> None:
            futures = self.submit_group(_work_many, _work, [c for _, c in small],
                                        timeout=budget, tenant=tenant)
            for (index, _), future in zip(small, futures, strict=True):
                batch.futures[future] = index
            small.clear()

        for index, task in tasks:
            if args is None:
                blob = zlib.compress(
                    pickle.dumps(portable(config), protocol=pickle.HIGHEST_PROTOCOL), 1)
                args = (hashlib.sha256(blob).hexdigest(), blob)
            if group and len(task[1]) < SMALL_FILE:
                small.append((index, (*args, task)))
                size += len(task[1])
                if len(small) >= GROUP_FILES or size >= GROUP_SIZE:
                    send_small()
                    size = 0
                continue
            future = self.fair.submit(tenant, _work, (*args, task), budget)
            batch.futures[future] = index
        if small:
            send_small()

    def submit(self, fn: Callable[..., _R], *args: object, timeout: float,
               tenant: Hashable = None) -> concurrent.futures.Future[_R]:
        """``fn(*args)`` in a worker, stopped past ``timeout`` seconds (``fn``: a module-level
        function of the engine, which the workers import by name), in ``tenant``'s turn."""
        return self.fair.submit(tenant, fn, args, timeout)

    def submit_group(self, many: Callable[[list[_A]], list[_R]], one: Callable[..., _R],
                     calls: list[_A], *, timeout: float, tenant: Hashable = None
                     ) -> list[concurrent.futures.Future[_R]]:
        """``one(*call)`` for each of ``calls``, all in one task (``many(calls)``: the list of
        their results), stopped past ``timeout`` seconds in all; a future for each call. When
        the task fails (past its timeout, its worker died), each call runs again alone with
        its own ``timeout``, so that only the culprit fails. A call's future cancelled
        cancels the task (and stops its worker, as a cancelled call does)."""
        parts: list[concurrent.futures.Future[_R]] = [concurrent.futures.Future() for _ in calls]
        group = self.fair.submit(tenant, many, (calls,), timeout)
        running: list[concurrent.futures.Future[Any]] = [group]

        def settle(done: concurrent.futures.Future[list[_R]]) -> None:
            if done.cancelled():
                for part in parts:
                    part.cancel()
                return
            if done.exception() is None:
                for part, result in zip(parts, done.result(), strict=True):
                    _resolve(part, result)
                return
            for part, call in zip(parts, calls, strict=True):
                if not part.done():  # alone, with its own budget
                    single = self.fair.submit(tenant, one, tuple(call), timeout)
                    running.append(single)
                    single.add_done_callback(functools.partial(_settle, part))

        def cancelled(part: concurrent.futures.Future[_R]) -> None:
            if part.cancelled():
                for future in list(running):
                    future.cancel()

        group.add_done_callback(settle)
        for part in parts:
            part.add_done_callback(cancelled)
        return parts

    def cancel_waiting(self, futures: Iterable[concurrent.futures.Future[Any]]) -> None:
        """Cancel those of ``futures`` (from :meth:`submit`) no worker has started."""
        self.fair.cancel_waiting(futures)

    def analyse(self, files: Iterable[tuple[str, bytes]], config: Config, *,
                prefilter: bool = True,
                on_result: Callable[[FileResult], None] | None = None) -> list[FileResult]:
        return self.start(files, config, prefilter=prefilter, on_result=on_result).wait()

    def close(self) -> None:
        self.fair.cancel_all()
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()  # type: ignore[no-untyped-call]
            pool.join(timeout=10)


def _plan(items: list[tuple[str, bytes]], config: Config, prefilter: bool,
          batch: Batch) -> list[tuple[int, _Task]]:
    return list(_planned(items, config, prefilter, batch))


def _planned(items: list[tuple[str, bytes]], config: Config, prefilter: bool,
             batch: Batch, *, largest_first: bool = False) -> Iterator[tuple[int, _Task]]:
    """The files that need a worker, each as soon as it is planned; the others settled in
    ``batch`` on the way. ``largest_first``: the files in decreasing size, so that the last
    ones the workers take are small, and finish together (in path order, sympy's 180 KB test
    files came last and one worker parsed them while the other waited)."""
    rule_index = {id(r): n for n, r in enumerate(config.rules)}
    order: Iterable[int] = range(len(items))
    if largest_first:
        order = sorted(order, key=lambda i: -len(items[i][1]))
    for index in order:
        path, source = items[index]
        planned = plan_words(path, source, config, prefilter=prefilter)
        if isinstance(planned, FileResult):
            batch.done(index, planned)
        else:
            text, rules, present = planned
            if holds_symbol_word(config, path, text, present):
                batch.worded.add(index)
            yield index, (path, text, tuple(rule_index[id(r)] for r in rules), prefilter)


def analyse_files(
    files: Iterable[tuple[str, bytes]],
    config: Config,
    *,
    workers: int | None = None,
    prefilter: bool = True,
    on_result: Callable[[FileResult], None] | None = None,
    pool: EnginePool | None = None,
    memory_mb: int | None = DEFAULT_WORKER_MEMORY_MB,
) -> list[FileResult]:
    """Analyse ``(path, source)`` pairs; results come back in input order.

    With ``pool``, its workers do the work. Otherwise ``workers=None`` uses ``os.cpu_count()``
    processes of a pool built for this call; ``workers=0`` analyses in this process (the budget
    is then enforced with SIGALRM where possible, else checked afterwards). ``on_result`` is
    called in this process as each file finishes.
    """
    items = list(files)
    batch = Batch([p for p, _ in items], [None] * len(items), on_result=on_result)
    if pool is None and (workers is None or workers > 0):
        # a pool of its own (ssot-bot check): the workers start on the first files while this
        # process plans the rest, one more file queued per worker (the module doc)
        planned = _planned(items, config, prefilter, batch, largest_first=True)
        first = next(planned, None)
        if first is None:
            return batch.wait()
        own = EnginePool.for_command(workers, len(items), memory_mb=memory_mb)
        assert own is not None  # a file to parse, and workers
        try:
            own.schedule(batch, itertools.chain((first,), planned), config, group=True)
            return batch.wait()
        finally:
            own.close()
    if pool is not None:  # the workers start on the first files while this plans the rest
        pool.schedule(batch, _planned(items, config, prefilter, batch, largest_first=True),
                      config, group=True)
    else:
        for index, task in _planned(items, config, prefilter, batch):
            batch.done(index, _in_process(task, config))
    return batch.wait()


# ------------------------------------------------------------------------------- in process


class _Timeout(BaseException):
    pass


def _raise_timeout(signum: int, frame: FrameType | None) -> None:
    raise _Timeout


def _in_process(task: _Task, config: Config) -> FileResult:
    path, text, rule_ids, gate = task
    rules = tuple(config.rules[k] for k in rule_ids)
    budget = config.file_time_budget
    use_alarm = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )
    start = time.monotonic()
    if not use_alarm:
        result = analyse_text(path, text, config, rules, gate=gate)
    else:
        previous = signal.signal(signal.SIGALRM, _raise_timeout)
        try:
            signal.setitimer(signal.ITIMER_REAL, budget)
            result = analyse_text(path, text, config, rules, gate=gate)
        except _Timeout:
            result = FileResult(path, error=FileError(path, budget_message(budget)))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    if time.monotonic() - start > budget and result.error is None:
        result = FileResult(path, error=FileError(path, budget_message(budget)))
    return result

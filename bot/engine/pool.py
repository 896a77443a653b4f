"""Many files through the engine, spread over worker processes, each under a time budget.

libcst's parser is native code that no signal interrupts (a 20,000-term expression keeps it busy
for minutes), so every file that needs parsing goes to a worker process the parent can kill:
past ``config.file_time_budget`` the worker is killed and replaced, the file becomes a
:class:`FileError`, and the run goes on. Files no rule can match are settled in the parent
without a worker. Safe to call from any thread (no signals are used with workers).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from bot.config.model import Config
from bot.engine.model import FileError, FileResult
from bot.engine.run import analyse_text, plan

_STARTUP_TIMEOUT = 60.0
_MAX_START_FAILURES = 3

# index, path, text, indexes into config.rules, ast gate on (the prefilter's second stage)
_Task = tuple[int, str, str, tuple[int, ...], bool]


def budget_message(budget: float) -> str:
    return f"analysis exceeded the {budget:g} s time budget"


def analyse_files(
    files: Iterable[tuple[str, bytes]],
    config: Config,
    *,
    workers: int | None = None,
    prefilter: bool = True,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Analyse ``(path, source)`` pairs; results come back in input order.

    ``workers=None`` uses ``os.cpu_count()`` processes; ``workers=0`` analyses in this process
    (the budget is then enforced with SIGALRM where possible, else checked afterwards).
    ``on_result`` is called in this process as each file finishes.
    """
    items = list(files)
    results: list[FileResult | None] = [None] * len(items)
    rule_index = {id(r): n for n, r in enumerate(config.rules)}
    tasks: deque[_Task] = deque()

    def done(index: int, result: FileResult) -> None:
        results[index] = result
        if on_result is not None:
            on_result(result)

    for index, (path, source) in enumerate(items):
        planned = plan(path, source, config, prefilter=prefilter)
        if isinstance(planned, FileResult):
            done(index, planned)
        else:
            text, rules = planned
            rule_ids = tuple(rule_index[id(r)] for r in rules)
            tasks.append((index, path, text, rule_ids, prefilter))

    count = (os.cpu_count() or 1) if workers is None else max(0, workers)
    if tasks:
        if count == 0:
            for task in tasks:
                done(task[0], _in_process(task, config))
        else:
            _Pool(config, min(count, len(tasks)), done).run(tasks)
    return [r if r is not None else FileResult(items[i][0]) for i, r in enumerate(results)]


# ------------------------------------------------------------------------------- in process


class _Timeout(BaseException):
    pass


def _raise_timeout(signum: int, frame: FrameType | None) -> None:
    raise _Timeout


def _in_process(task: _Task, config: Config) -> FileResult:
    _, path, text, rule_ids, gate = task
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


# ---------------------------------------------------------------------------------- workers


def _worker_main(conn: Connection, config: Config) -> None:
    """Loop in a worker process: receive a task, send back ``(index, FileResult)``."""
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    conn.send(None)  # ready
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, path, text, rule_ids, gate = task
        try:
            rules = tuple(config.rules[k] for k in rule_ids)
            result = analyse_text(path, text, config, rules, gate=gate)
        except Exception as exc:  # one bad file must not end the run
            message = f"internal error: {type(exc).__name__}"
            result = FileResult(path, error=FileError(path, message))
        conn.send((index, result))


def _portable(config: Config) -> Config:
    """The config with plain dicts for its mappings (a read-only mapping proxy cannot be
    pickled to a worker). Rule order is kept: tasks name rules by index."""
    rules = tuple(replace(r, canonical=dict(r.canonical)) for r in config.rules)
    return replace(config, rules=rules, aliases=dict(config.aliases))


def warm_up() -> None:
    """Start the worker machinery now (the forkserver, with the engine imported), so that the
    first analysis does not pay for it. Safe to call from any thread, and more than once."""
    if _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _context() -> BaseContext:
    if sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # workers fork from a server that has the engine imported already: fast (re)starts,
        # and the parent's __main__ is never re-imported
        ctx.set_forkserver_preload(["bot.engine.run"])
        return ctx
    return multiprocessing.get_context("spawn")


@dataclass(eq=False)
class _Worker:
    proc: BaseProcess
    conn: Connection
    started: float
    ready: bool = False
    task: _Task | None = None
    deadline: float = 0.0


@dataclass
class _Pool:
    config: Config
    size: int
    done: Callable[[int, FileResult], None]
    ctx: BaseContext = field(default_factory=_context)
    workers: list[_Worker] = field(default_factory=list)
    start_failures: int = 0

    def _spawn(self) -> None:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(  # type: ignore[attr-defined]
            target=_worker_main, args=(child, _portable(self.config)), daemon=True,
            name="ssot-engine",
        )
        proc.start()
        child.close()
        self.workers.append(_Worker(proc, parent, time.monotonic()))

    def _retire(self, w: _Worker, *, kill: bool) -> None:
        self.workers.remove(w)
        if kill:
            w.proc.kill()
        w.proc.join(timeout=5)
        if w.proc.is_alive():
            w.proc.kill()
            w.proc.join(timeout=5)
        w.conn.close()

    def run(self, tasks: deque[_Task]) -> None:
        budget = self.config.file_time_budget
        try:
            for _ in range(self.size):
                self._spawn()
            while tasks or any(w.task is not None for w in self.workers):
                for w in self.workers:
                    if w.ready and w.task is None and tasks:
                        w.task = tasks.popleft()
                        w.conn.send(w.task)
                        w.deadline = time.monotonic() + budget
                if not self.workers:
                    if self.start_failures >= _MAX_START_FAILURES:
                        self._fall_back(tasks)  # workers cannot start here
                        return
                    self._spawn()
                    continue
                now = time.monotonic()
                limits = [
                    w.deadline if w.task is not None else w.started + _STARTUP_TIMEOUT
                    for w in self.workers
                    if w.task is not None or not w.ready
                ]
                timeout = max(0.0, min(limits) - now) if limits else None
                for conn in wait([w.conn for w in self.workers], timeout):
                    self._receive(next(w for w in self.workers if w.conn is conn))
                self._expire(budget)
                while (
                    tasks
                    and len(self.workers) < self.size
                    and self.start_failures < _MAX_START_FAILURES
                ):
                    self._spawn()
        finally:
            self._shutdown()

    def _receive(self, w: _Worker) -> None:
        try:
            message: Any = w.conn.recv()
        except (EOFError, OSError):
            task = w.task
            if task is None:
                self.start_failures += 0 if w.ready else 1
            else:
                path = task[1]
                self.done(task[0], FileResult(path, error=FileError(path, "analysis crashed")))
            self._retire(w, kill=True)
            return
        if message is None:
            w.ready = True
            return
        index, result = message
        w.task = None
        self.done(index, result)

    def _expire(self, budget: float) -> None:
        now = time.monotonic()
        for w in list(self.workers):
            if w.task is not None and now >= w.deadline:
                index, path = w.task[0], w.task[1]
                self._retire(w, kill=True)
                self.done(index, FileResult(path, error=FileError(path, budget_message(budget))))
            elif not w.ready and now >= w.started + _STARTUP_TIMEOUT:
                self.start_failures += 1
                self._retire(w, kill=True)

    def _fall_back(self, tasks: deque[_Task]) -> None:
        """Workers cannot start here: finish in this process rather than not at all."""
        while tasks:
            task = tasks.popleft()
            self.done(task[0], _in_process(task, self.config))

    def _shutdown(self) -> None:
        for w in list(self.workers):
            busy = w.task is not None
            if not busy:
                try:
                    w.conn.send(None)
                except OSError:
                    busy = True
            self._retire(w, kill=busy)

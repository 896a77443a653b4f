"""The worker processes' start machinery, with nothing heavy imported: ``ssot-bot check`` starts
it before it imports the engine itself, so that the forkserver imports the engine (0.3 s of
CPU) on the other core meanwhile (:mod:`bot.engine.pool` uses it for every pool)."""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Iterable
from multiprocessing.context import BaseContext

# what the forkserver imports before it forks the first worker (:func:`warm_up` may add)
PRELOAD = ["bot.engine.run"]


def warm_up(imports: Iterable[str] = ()) -> None:
    """Start the worker machinery now (the forkserver, with the engine imported), so that the
    first analysis does not pay for it. Safe to call from any thread, and more than once.

    ``imports``: modules the server imports too, before it starts (a later call adds nothing
    to a running server). A worker imports the parent's main script again on start (as
    ``__mp_main__``; Python 3.11's forkserver drops the script's path it would need to import
    it once in the server): the ``ssot-bot`` script imports :mod:`bot.cli` and with it every
    command, 0.3 s of CPU in each worker before its first file unless the server has it."""
    PRELOAD.extend(m for m in imports if m not in PRELOAD)
    if context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def context() -> BaseContext:
    """The workers' start method: a forkserver where there is one (workers fork from a server
    that has the engine imported already: fast (re)starts), else spawn."""
    if sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        return ctx
    return multiprocessing.get_context("spawn")

"""What the local commands (``check``, ``fix``, ``inventory``) share: a root folder and its
configuration, the usage error's exit, and the analysis of the collected files."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config.model import Config
from bot.engine.model import FileResult
from bot.workspace.config import load_config_or_report
from bot.workspace.files import Inputs, read
from bot.workspace.progress import Progress

if TYPE_CHECKING:
    from bot.engine.pool import EnginePool


def fail(command: str, message: str) -> int:
    """``ssot-bot COMMAND: message`` on stderr; the usage error's exit status, 2."""
    print(f"ssot-bot {command}: {message}", file=sys.stderr)
    return 2


def open_root(command: str, root: Path, shown: str, config_arg: str | None) -> Config | int:
    """The configuration for the tree at ``root`` (``shown``: how the command line named it),
    or the exit status 2 once what is wrong is printed on stderr."""
    if not root.is_dir():
        return fail(command, f"{shown}: not a directory")
    config = load_config_or_report(root, config_arg)
    return 2 if config is None else config


@contextlib.contextmanager
def engine_pool(jobs: int | None, files: int) -> Iterator[EnginePool | None]:
    """The worker processes of one command, shared by the re-export index and the analysis:
    ``jobs`` of them (None: one per CPU, at most one per file; 0 or no files: none, everything
    in this process), each with one more file queued (:mod:`bot.engine.pool`)."""
    from bot.engine.pool import EnginePool

    pool = EnginePool.for_command(jobs, files)
    if pool is None:
        yield None
        return
    try:
        yield pool
    finally:
        pool.close()


def analyse_inputs(inputs: Inputs, config: Config, *, jobs: int | None, progress: bool = False,
                   prefilter: bool = True, pool: EnginePool | None = None) -> list[FileResult]:
    """The results of ``inputs.files`` (worker processes: ``pool``'s, else ``jobs`` of a pool
    of the call's own; a progress bar on a terminal when ``progress``), then a result for each
    file that could not be read or is over ``limits.max_file_bytes``
    (:func:`bot.workspace.files.read`)."""
    from bot.engine.pool import analyse_files

    bar = Progress.start(len(inputs.files), enabled=progress)
    read_errors: list[FileResult] = []
    try:
        results = analyse_files(read(inputs.files, read_errors, config, inputs.contents),
                                config, workers=jobs,
                                prefilter=prefilter, on_result=bar.advance, pool=pool)
    finally:
        bar.finish()
    return [*results, *read_errors]


def analyse_tree(root: Path, inputs: Inputs, config: Config, *, jobs: int | None,
                 progress: bool = False, prefilter: bool = True
                 ) -> tuple[Config, list[FileResult]]:
    """The re-export index of the tree at ``root`` (docs/behaviour.md §10), then the results
    of ``inputs`` under the configuration it gives (:func:`analyse_inputs`), both with one
    pool of worker processes (:func:`engine_pool`): its workers parse the modules the index
    reads while this process builds it, then analyse the files."""
    from bot.workspace.reexports import with_reexports

    with engine_pool(jobs, len(inputs.files)) as pool:
        config = with_reexports(root, config, pool=pool, inputs=inputs)
        results = analyse_inputs(inputs, config, jobs=jobs, progress=progress,
                                 prefilter=prefilter, pool=pool)
    return config, results

"""What the local commands (``check``, ``fix``, ``inventory``) share: a root folder and its
configuration, the usage error's exit, and the analysis of the collected files."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.config.model import Config
from bot.engine.model import FileResult
from bot.workspace.config import load_config_or_report
from bot.workspace.files import Inputs, read
from bot.workspace.progress import Progress


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


def analyse_inputs(inputs: Inputs, config: Config, *, jobs: int | None, progress: bool = False,
                   prefilter: bool = True) -> list[FileResult]:
    """The results of ``inputs.files`` (worker processes; a progress bar on a terminal when
    ``progress``), then a result for each file that could not be read or is over
    ``limits.max_file_bytes`` (:func:`bot.workspace.files.read`)."""
    from bot.engine.pool import analyse_files

    bar = Progress.start(len(inputs.files), enabled=progress)
    read_errors: list[FileResult] = []
    try:
        results = analyse_files(read(inputs.files, read_errors, config), config, workers=jobs,
                                prefilter=prefilter, on_result=bar.advance)
    finally:
        bar.finish()
    return [*results, *read_errors]

"""What one pull request analysis may cost: which changed files are fetched, which are skipped.

Pure planning over the head's Git Trees listing (one request, made once per analysis and kept
in :class:`AnalysisContext` for whatever else the analysis needs from the head's tree): a file
over ``limits.max_file_bytes`` is skipped by its listed size before any fetch; files past
``max_files`` or ``max_total_bytes`` are skipped the same way. Each skipped file becomes a
:class:`FileError` (a ``warning`` annotation and a line in the summary), so the check still
completes and says what it did not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.config.model import Config, Limits
from bot.engine.model import FileError

if TYPE_CHECKING:  # annotations only: the local commands import this module, not aiohttp
    from bot.github.client import Repo, Tree

TIMED_OUT_TITLE = "SSOT analysis timed out"


@dataclass
class AnalysisContext:
    """One analysis's view of the pull request, its one snapshot: repository, head,
    configuration, the head's tree and the changed files, each read once (§14)."""

    repo: Repo
    number: int
    head_sha: str
    config: Config
    tree: Tree
    # GET pulls/{n}/files: every entry (read once per analysis), and those checked
    listed: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    fix_diffs: dict[str, str] = field(default_factory=dict)  # path -> the verified fix's diff


@dataclass(frozen=True)
class FetchPlan:
    fetch: list[dict[str, Any]]  # changed files to read, in the PR's order
    skipped: list[FileError]


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size:,} bytes"


def oversized(path: str, size: int, limits: Limits) -> FileError | None:
    """The skip for a file of ``size`` bytes, or None when it may be read."""
    if size > limits.max_file_bytes:
        return FileError(path, f"file not checked: it is {_mib(size)}, over the "
                               f"max_file_bytes limit of {_mib(limits.max_file_bytes)}")
    return None


def plan_fetches(files: Sequence[dict[str, Any]], tree: Tree, limits: Limits) -> FetchPlan:
    """Which of the (already path-filtered) changed ``files`` to read, judged by their sizes in
    ``tree``. A file the listing lacks (a truncated tree) is read and judged after the fetch."""
    fetch: list[dict[str, Any]] = []
    skipped: list[FileError] = []
    total = 0
    for f in files:
        path = f["filename"]
        entry = tree.files.get(path)
        size = entry.size if entry is not None else 0
        too_big = oversized(path, size, limits)
        if too_big is not None:
            skipped.append(too_big)
        elif len(fetch) >= limits.max_files:
            skipped.append(FileError(path, "file not checked: an analysis reads at most "
                                           f"{limits.max_files} files (max_files)"))
        elif total + size > limits.max_total_bytes:
            skipped.append(FileError(path, "file not checked: an analysis reads at most "
                                           f"{_mib(limits.max_total_bytes)} (max_total_bytes)"))
        else:
            total += size
            fetch.append(f)
    return FetchPlan(fetch, skipped)


def timed_out_summary(budget: float) -> str:
    return (f"The analysis did not finish within its time budget of {budget:g} s "
            "(`limits.analysis_time_budget`), so it fails rather than pass unseen code. Use "
            "**Re-run SSOT** to "
            "try again, or split the pull request.")

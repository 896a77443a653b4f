"""The lines a run's diff adds: a unified diff given (``--diff``), or the work tree against
``git merge-base REF HEAD`` (``--diff-base``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.engine.diff import NotADiff, added_lines_from_diff
from bot.workspace.files import UsageError

GIT_TIMEOUT_SECONDS = 60


def added_lines(root: Path, diff: str | None,
                diff_base: str | None) -> dict[str, frozenset[int] | None] | None:
    """root-relative path -> added lines (None: whole file), or None without a diff.
    ``diff``: a file of a unified diff (``-``: standard input); ``diff_base``: a git ref."""
    if diff is not None:
        if diff == "-":
            text = sys.stdin.read()
        else:
            try:
                text = Path(diff).read_text(encoding="utf-8", errors="surrogateescape")
            except OSError as exc:
                raise UsageError(f"--diff {diff}: {exc.strerror or exc}") from None
        try:
            return added_lines_from_diff(text)
        except NotADiff as exc:
            raise UsageError(f"--diff {diff}: {exc}") from None
    if diff_base is not None:
        return git_diff_base(root, diff_base)
    return None


def _git(root: Path, *argv: str) -> str:
    try:
        done = subprocess.run(
            ["git", *argv],
            cwd=root,
            capture_output=True,
            check=False,
            timeout=GIT_TIMEOUT_SECONDS,
        )
    except FileNotFoundError:
        raise UsageError("--diff-base needs git, and git was not found") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"git {argv[0]} took longer than {GIT_TIMEOUT_SECONDS}s") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {' '.join(argv)} failed: {detail[-1] if detail else 'error'}")
    return done.stdout.decode("utf-8", "surrogateescape")


def git_diff_base(root: Path, ref: str) -> dict[str, frozenset[int] | None]:
    """The work tree (tracked changes and untracked, not ignored files) against
    ``git merge-base REF HEAD``; paths relative to ``root``."""
    if ref.startswith("-"):
        raise UsageError(f"--diff-base {ref}: not a git revision")
    base = _git(root, "merge-base", ref, "HEAD").strip()
    diff = _git(
        root,
        "-c",
        "core.quotePath=true",
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--relative",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "-M",
        base,
        "--",
    )
    added = added_lines_from_diff(diff)
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", ".")
    for path in untracked.split("\0"):
        if path:
            added[path] = None
    return added

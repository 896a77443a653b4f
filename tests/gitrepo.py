"""git in a test's repository, with an author set so that commits work on any machine."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

NEEDS_GIT = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def git(cwd: Path, *args: str) -> str:
    """``git ARGS`` in ``cwd``; its standard output (raises when git fails)."""
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode()

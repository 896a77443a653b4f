"""Unified diff parsing: ``bot.engine.diff`` (hand-written) against the ``unidiff`` library.

    python benchmarks/diff_parse.py [DIFF_FILE]

Without a file, the diff is this repository's history as ``git log -p`` prints it (real patches,
several hundred file diffs). Prints the best of 5 runs of each parser and whether they agree on
the added lines per file. Needs ``pip install unidiff`` (not a dependency of ssot-bot: see the
docstring of ``bot/engine/diff.py`` for why).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.engine.diff import added_lines_from_diff

ROOT = Path(__file__).resolve().parent.parent


def with_unidiff(text: str) -> dict[str, frozenset[int] | None]:
    from unidiff import PatchSet  # type: ignore[import-not-found, unused-ignore]

    out: dict[str, frozenset[int] | None] = {}
    for f in PatchSet(text):
        if f.is_removed_file or f.is_binary_file:
            continue
        if f.is_added_file:
            out[f.path] = None
        else:
            out[f.path] = frozenset(
                line.target_line_no for hunk in f for line in hunk if line.is_added
            )
    return out


def best(run: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    if len(sys.argv) > 1:
        text = Path(sys.argv[1]).read_text(encoding="utf-8", errors="replace")
    else:
        text = subprocess.run(
            ["git", "log", "-p", "--format=", "--no-renames"], cwd=ROOT, capture_output=True,
            text=True, errors="replace", check=True,
        ).stdout
    print(f"diff: {len(text) / 1e6:.2f} MB, {text.count(chr(10)):,} lines, "
          f"{text.count('diff --git'):,} file diffs")
    hand, ours = best(lambda: added_lines_from_diff(text))
    print(f"bot.engine.diff: {hand * 1000:.0f} ms")
    try:
        lib, theirs = best(lambda: with_unidiff(text))
    except ImportError:
        print("unidiff: not installed (pip install unidiff)")
        return
    except Exception as exc:  # unidiff refuses some diffs git and GitHub produce
        print(f"unidiff: {type(exc).__name__}: {exc}")
        return
    same = "same added lines" if ours == theirs else "DIFFERENT results"
    print(f"unidiff:         {lib * 1000:.0f} ms ({lib / hand:.1f}x), {same}")


if __name__ == "__main__":
    main()

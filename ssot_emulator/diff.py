"""Unified patches as GitHub shows them in ``GET /pulls/{n}/files``, and the lines they cover.

Pure functions over text; no I/O.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass

NO_NEWLINE = "\\ No newline at end of file"
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def git_lines(text: str) -> list[str]:
    """Split like git does: on ``\\n`` only, each line keeping its terminator."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def unified_patch(old: str, new: str, *, context: int = 3) -> str:
    """The hunks of a unified diff, without the ``---``/``+++`` headers, lines joined by
    ``\\n`` and no final newline (GitHub's ``patch`` field). Empty when nothing changed."""
    out: list[str] = []
    diff = difflib.unified_diff(git_lines(old), git_lines(new), n=context, lineterm="")
    for index, line in enumerate(diff):
        if index < 2:  # the ---/+++ headers
            continue
        if line.startswith("@@"):
            out.append(line)
        elif line.endswith("\n"):
            out.append(line[:-1])
        else:
            out.append(line)
            out.append(NO_NEWLINE)
    return "\n".join(out)


@dataclass(frozen=True)
class Hunk:
    """The lines one hunk shows: new-side (RIGHT) and old-side (LEFT) line numbers."""

    right: frozenset[int]
    left: frozenset[int]


def hunks(patch: str) -> list[Hunk]:
    """Parse a patch's hunks. A RIGHT line is an added or context line (new numbering), a LEFT
    line a removed or context line (old numbering)."""
    return list(_hunks(patch))


@functools.lru_cache(maxsize=64)
def _hunks(patch: str) -> tuple[Hunk, ...]:
    """:func:`hunks`, remembered: a review of N comments on one 30,000-line patch parsed it N
    times, on the event loop the service under test shares with the emulator."""
    result: list[Hunk] = []
    right: set[int] = set()
    left: set[int] = set()
    old_no = new_no = 0
    started = False
    for line in patch.split("\n"):
        match = _HUNK.match(line)
        if match:
            if started:
                result.append(Hunk(frozenset(right), frozenset(left)))
            right, left = set(), set()
            old_no, new_no = int(match.group(1)), int(match.group(3))
            started = True
            continue
        if not started or line.startswith("\\"):
            continue
        if line.startswith("+"):
            right.add(new_no)
            new_no += 1
        elif line.startswith("-"):
            left.add(old_no)
            old_no += 1
        else:
            right.add(new_no)
            left.add(old_no)
            new_no += 1
            old_no += 1
    if started:
        result.append(Hunk(frozenset(right), frozenset(left)))
    return tuple(result)


def count_changes(patch: str) -> tuple[int, int]:
    """(additions, deletions) of a patch."""
    additions = deletions = 0
    for line in patch.split("\n"):
        if line.startswith("@@"):
            continue
        if line.startswith("+"):
            additions += 1
        elif line.startswith("-"):
            deletions += 1
    return additions, deletions


def resolve_line(
    patch: str | None,
    line: int | None,
    side: str = "RIGHT",
    start_line: int | None = None,
    start_side: str | None = None,
) -> bool:
    """Whether GitHub can place a review comment on ``line`` (and ``start_line``) of a file
    whose diff is ``patch``: the line must be shown by one hunk on that side, and a multi-line
    range must start earlier in the same hunk."""
    if patch is None or line is None:
        return False
    for hunk in _hunks(patch):
        shown = hunk.left if side == "LEFT" else hunk.right
        if line not in shown:
            continue
        if start_line is None:
            return True
        start_shown = hunk.left if (start_side or side) == "LEFT" else hunk.right
        return start_line in start_shown and start_line < line
    return False

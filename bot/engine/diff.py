"""Unified diffs -> the lines they add, per file. Pure: text in, line numbers out.

Two inputs: a whole diff as ``git diff`` prints it (``ssot-bot check --diff``), and GitHub's
per-file ``patch`` field (hunks only, no headers). Hunk bodies are consumed by their counts
from the ``@@`` header, so a removed line that happens to read ``--- x`` is never taken for a
file header. Lines are split on ``\\n`` only (a form feed or U+2028 inside a line of code is
not a line break for git), and a trailing ``\\r`` is ignored (a diff saved with CRLF endings).

Why not the ``unidiff`` library (measured 2026-12-01 with unidiff 1.0.1,
``python benchmarks/diff_parse.py``: this repository's history as ``git log -p``, 2.4-2.6 MB,
~72,000 lines, ~260-300 file diffs, best of 5 on the shared 2-core machine): this module takes
297-366 ms, unidiff 888-1,990 ms (3.0-5.4x slower), with the same added lines where both parse.
And unidiff refuses or misreads inputs this module must take, each covered by
tests/engine/test_diff.py:

- a context line whose single space an editor stripped (``UnidiffParseError``);
- a removed line that reads like a header (``--- a/other.py``) inside a hunk
  (``Hunk is shorter than expected``);
- a truncated hunk, as in GitHub's per-file ``patch`` of a large file (the same error);
- C-quoted paths (``"sp ace/f\\303\\251.py"``): returned still quoted;
- GitHub's per-file ``patch`` has no file headers: unidiff needs fake ones prepended.

So the hand-written parser stays; unidiff is not a dependency.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.engine.model import Violation

__all__ = [
    "NotADiff",
    "added_lines_from_diff",
    "added_lines_from_patch",
    "commentable_lines_from_patch",
    "mark_new",
]

_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {
    "a": 7,
    "b": 8,
    "t": 9,
    "n": 10,
    "v": 11,
    "f": 12,
    "r": 13,
    '"': 34,
    "\\": 92,
}


@dataclass
class _Hunks:
    added: set[int] = field(default_factory=set)
    context: set[int] = field(default_factory=set)


@dataclass
class _FileDiff:
    git_header: str | None = None  # the text after "diff --git "
    old_path: str | None = None
    new_path: str | None = None
    rename_to: str | None = None
    new_file: bool = False
    deleted: bool = False
    binary: bool = False
    hunks: _Hunks = field(default_factory=_Hunks)
    has_hunks: bool = False


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _unquote(value: str) -> str:
    """Git's C-style quoted path (``"a/f\\303\\251.py"``) -> the path; unquoted as is."""
    if not (len(value) >= 2 and value.startswith('"') and value.endswith('"')):
        return value
    body = value[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and re.fullmatch(r"[0-7]{3}", body[i + 1 : i + 4]):
                out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
                i += 4
                continue
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
        out.extend(ch.encode("utf-8"))
        i += 1
    return out.decode("utf-8", errors="replace")


def _header_path(value: str) -> str:
    """The path of a ``---``/``+++`` line: unquoted, without a trailing tab and timestamp."""
    value = value.rstrip("\r")
    if value.startswith('"'):
        i = 1
        while i < len(value):
            if value[i] == "\\":
                i += 2
                continue
            if value[i] == '"':
                return _unquote(value[: i + 1])
            i += 1
    return value.split("\t", 1)[0]


def _strip_prefix(path: str, prefix: str) -> str:
    return path[len(prefix) :] if path.startswith(prefix) else path


def _paths_from_git_header(rest: str) -> tuple[str | None, str | None]:
    """``a/X b/Y`` (possibly quoted) -> (X, Y), for headers without ---/+++ lines."""
    if rest.startswith('"'):
        end = rest.find('" ', 1)
        if end != -1:
            return _unquote(rest[: end + 1]), _unquote(rest[end + 2 :])
    if rest.endswith('"'):
        start = rest.rfind(' "')
        if start != -1:
            return rest[:start], _unquote(rest[start + 1 :])
    # Unquoted: the same path on both sides is the common case (new, deleted, mode change).
    if len(rest) % 2 == 1:
        half = (len(rest) - 1) // 2
        left, right = rest[:half], rest[half + 1 :]
        if rest[half] == " " and left[2:] == right[2:]:
            return left, right
    if " b/" in rest:
        left, right = rest.split(" b/", 1)
        return left, "b/" + right
    return None, None


def _consume_hunk(lines: list[str], index: int, match: re.Match[str], hunks: _Hunks) -> int:
    """Read one hunk's body starting at ``index``; returns the index after it."""
    old_left = int(match.group(2)) if match.group(2) is not None else 1
    new_left = int(match.group(4)) if match.group(4) is not None else 1
    new_line = int(match.group(3))
    while index < len(lines) and (old_left > 0 or new_left > 0):
        line = lines[index]
        marker = line[:1]
        if marker == "+":
            hunks.added.add(new_line)
            new_line += 1
            new_left -= 1
        elif marker == "-":
            old_left -= 1
        elif marker == " " or line == "":
            # An empty line is a context line whose single space an editor stripped.
            hunks.context.add(new_line)
            new_line += 1
            new_left -= 1
            old_left -= 1
        elif marker == "\\":
            pass  # "\ No newline at end of file"
        else:
            break  # a truncated hunk: stop at the first line that cannot belong to it
        index += 1
    # A "\ No newline" marker right after the hunk's last line belongs to it.
    while index < len(lines) and lines[index].startswith("\\"):
        index += 1
    return index


def _parse_hunks_only(patch: str) -> _Hunks:
    hunks = _Hunks()
    lines = _lines(patch)
    index = 0
    while index < len(lines):
        match = _HUNK.match(lines[index])
        if match is None:
            index += 1
            continue
        index = _consume_hunk(lines, index + 1, match, hunks)
    return hunks


def _parse_diff(text: str) -> list[_FileDiff]:
    files: list[_FileDiff] = []
    current: _FileDiff | None = None
    lines = _lines(text)
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("diff --git "):
            current = _FileDiff(git_header=line[len("diff --git ") :])
            files.append(current)
        elif (
            line.startswith("--- ")
            and index + 1 < len(lines)
            and lines[index + 1].startswith("+++ ")
        ):
            if current is None or current.has_hunks or current.old_path is not None:
                current = _FileDiff()  # a plain unified diff (diff -u), no git header
                files.append(current)
            current.old_path = _header_path(line[4:])
            current.new_path = _header_path(lines[index + 1][4:])
            index += 2
            continue
        elif current is not None and not current.has_hunks:
            if line.startswith("new file mode"):
                current.new_file = True
            elif line.startswith("deleted file mode"):
                current.deleted = True
            elif line.startswith(("rename to ", "copy to ")):
                current.rename_to = _unquote(line.split(" to ", 1)[1])
            elif line.startswith("Binary files ") or line == "GIT binary patch":
                current.binary = True
        if current is not None:
            match = _HUNK.match(line)
            if match is not None:
                current.has_hunks = True
                index = _consume_hunk(lines, index + 1, match, current.hunks)
                continue
        index += 1
    return files


def _new_side_path(f: _FileDiff) -> str | None:
    if f.new_path is not None:
        if f.new_path == "/dev/null":
            return None
        return (
            _strip_prefix(f.new_path, "b/")
            if (f.git_header is not None or f.new_path.startswith("b/"))
            else f.new_path
        )
    if f.rename_to is not None:
        return f.rename_to
    if f.git_header is not None:
        _, new = _paths_from_git_header(f.git_header)
        return _strip_prefix(new, "b/") if new is not None else None
    return None


class NotADiff(ValueError):
    """Text given as a unified diff that is not one."""


def added_lines_from_diff(diff_text: str) -> dict[str, frozenset[int] | None]:
    """A unified diff (as ``git diff`` prints it) -> new-side path -> added line numbers.

    ``None`` means every line is added (a new file). Deleted files and binary files are left
    out; a renamed file appears under its new path; a file whose diff adds nothing (a pure
    rename, a mode change) maps to an empty set. Text that holds no file of a diff (an empty
    one is an empty diff) raises :class:`NotADiff`: a garbage ``--diff`` must not pass as "no
    changes".
    """
    result: dict[str, frozenset[int] | None] = {}
    files = _parse_diff(diff_text)
    if not files and diff_text.strip():
        raise NotADiff("not a unified diff (no `diff --git` or `---`/`+++` file header)")
    for f in files:
        if f.deleted or f.binary:
            continue
        path = _new_side_path(f)
        if path is None:
            continue
        new_file = f.new_file or (f.old_path == "/dev/null")
        result[path] = None if new_file else frozenset(f.hunks.added)
    return result


def added_lines_from_patch(patch: str | None) -> frozenset[int] | None:
    """GitHub's per-file ``patch`` (hunks only) -> added lines; ``None`` (omitted) -> all new."""
    if patch is None:
        return None
    return frozenset(_parse_hunks_only(patch).added)


def commentable_lines_from_patch(patch: str | None) -> frozenset[int]:
    """RIGHT-side lines shown in the patch's hunks (added and context): where GitHub accepts
    a review comment. An omitted patch allows none."""
    if patch is None:
        return frozenset()
    hunks = _parse_hunks_only(patch)
    return frozenset(hunks.added | hunks.context)


def mark_new(violations: Iterable[Violation], added: frozenset[int] | None) -> list[Violation]:
    """Set ``new`` on each violation: True when any of its lines ``line..end_line`` is added
    (``added`` None: the whole file is new)."""
    out: list[Violation] = []
    for v in violations:
        if added is None:
            new = True
        else:
            last = max(v.line, v.end_line)
            new = any(n in added for n in range(v.line, last + 1))
        out.append(v if v.new == new else dataclasses.replace(v, new=new))
    return out

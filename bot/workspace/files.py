"""The files of a local tree a run reads: walked (never into :data:`SKIPPED_DIRS`, a virtual
environment or what ``.gitignore`` ignores, never out of the root through a symbolic link),
filtered by the configuration's paths and a diff, read lazily."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from bot.config.globs import path_matches
from bot.config.model import Config
from bot.engine.model import FileError, FileResult
from bot.engine.run import rules_for_path
from bot.usecases.budget import oversized

#: Folders never walked into when a PATH is a directory.
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox",
     ".mypy_cache", ".ruff_cache", ".pytest_cache", "site-packages", "__pypackages__", ".eggs"}
)  # fmt: skip


class UsageError(Exception):
    """A command line that cannot be run: exit 2 with this message."""


@dataclass
class Inputs:
    """What a run reads before analysing: the files, and unreadable ones as errors."""

    files: list[tuple[str, Path]] = field(default_factory=list)  # (root-relative, on disk)
    errors: list[FileResult] = field(default_factory=list)


def relative(root_abs: str, path: str) -> str | None:
    """``path`` relative to the root, ``/``-separated ("" for the root; None: outside it)."""
    rel = os.path.relpath(os.path.abspath(path), root_abs)
    if rel == os.curdir:
        return ""
    if rel.startswith(os.pardir + os.sep) or rel == os.pardir or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/")


def walk(directory: str, root: str | None = None) -> Iterator[str]:
    """Files under ``directory``, and the symbolic links to folders (never followed).

    Never walked into: the :data:`SKIPPED_DIRS`, virtual environments (a folder holding
    ``pyvenv.cfg``, whatever its name), and what a ``.gitignore`` between ``root`` (default:
    ``directory``) and the file ignores, with git's rules (pathspec's gitwildmatch: a deeper
    ``.gitignore`` wins, ``!`` re-includes)."""
    ignores = _Ignores(os.path.abspath(root or directory))
    for current, dirs, names in os.walk(directory):
        kept = []
        for name in sorted(dirs):
            full = os.path.join(current, name)
            if name in SKIPPED_DIRS or ignores.ignored(full, folder=True):
                continue
            if not os.path.islink(full) and os.path.isfile(os.path.join(full, "pyvenv.cfg")):
                continue  # a virtual environment
            kept.append(name)
        dirs[:] = kept
        for name in dirs:
            if os.path.islink(os.path.join(current, name)):
                yield os.path.join(current, name)
        for name in sorted(names):
            full = os.path.join(current, name)
            if not ignores.ignored(full, folder=False):
                yield full


class _Ignores:
    """The ``.gitignore`` files from ``root`` down, read once per folder."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}

    def _spec(self, folder: str) -> pathspec.GitIgnoreSpec | None:
        if folder not in self._specs:
            spec = None
            try:
                with open(os.path.join(folder, ".gitignore"), encoding="utf-8",
                          errors="replace") as f:
                    spec = pathspec.GitIgnoreSpec.from_lines(f.read().splitlines())
            except OSError:
                pass
            except Exception:  # a line pathspec cannot read: the file ignores nothing
                spec = None
            self._specs[folder] = spec
        return self._specs[folder]

    def ignored(self, path: str, *, folder: bool) -> bool:
        rel = os.path.relpath(os.path.abspath(path), self.root)
        if rel.startswith(os.pardir) or os.path.isabs(rel):
            return False
        parts = rel.split(os.sep)
        verdict = False
        base = self.root
        for i in range(len(parts)):  # shallow to deep: the deepest .gitignore that says wins
            spec = self._spec(base)
            if spec is not None:
                said = spec.check_file("/".join(parts[i:]) + ("/" if folder else "")).include
                if said is not None:
                    verdict = said
            base = os.path.join(base, parts[i])
        return verdict


def _escapes(real_root: str, on_disk: str) -> bool:
    """``on_disk`` resolves (symbolic links followed) to somewhere outside the root."""
    real = os.path.realpath(on_disk)
    return real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep)


def collect(
    root: Path,
    paths: Sequence[str],
    config: Config,
    added: dict[str, frozenset[int] | None] | None,
) -> Inputs:
    """The files under ``paths`` that ``config.paths`` checks (and ``added`` names, when
    given), sorted; a symbolic link out of the root is an error result, never read."""
    root_abs = os.path.abspath(root)
    real_root = os.path.realpath(root)
    seen: set[str] = set()
    inputs = Inputs()

    def consider(on_disk: str) -> None:
        rel = relative(root_abs, on_disk)
        if not rel or rel in seen:
            return
        if _escapes(real_root, on_disk) and (
                os.path.isdir(on_disk) or path_matches(config.paths, rel)):
            # never read outside the root through a symbolic link
            seen.add(rel)
            inputs.errors.append(FileResult(path=rel, error=FileError(
                rel, "not checked: a symbolic link to outside the root")))
            return
        if not os.path.isfile(on_disk) or _escapes(real_root, on_disk):
            return
        if not path_matches(config.paths, rel):
            return
        if added is not None and rel not in added:
            return
        seen.add(rel)
        inputs.files.append((rel, Path(on_disk)))

    for path in paths:
        if not os.path.exists(path):
            raise UsageError(f"{path}: no such file or directory")
        if relative(root_abs, path) is None:
            raise UsageError(f"{path}: not inside the root {root} (see --root)")
        if os.path.isdir(path) and not _escapes(real_root, path):
            for on_disk in walk(path, root_abs):
                consider(on_disk)
        else:
            consider(path)
    inputs.files.sort()
    return inputs


def read(
    files: Sequence[tuple[str, Path]], errors: list[FileResult], config: Config
) -> Iterator[tuple[str, bytes]]:
    """File contents, lazily. A file that cannot be read becomes an error result; so does one
    over ``limits.max_file_bytes`` (never read past the limit: a file the Action checks out from
    a pull request is as hostile as one the App fetches), which fails the run, as the App's
    check, when a rule applies to its path (contract §13)."""
    limit = config.limits.max_file_bytes
    for rel, on_disk in files:
        try:
            with on_disk.open("rb") as handle:
                data = handle.read(limit + 1)
                size = max(len(data), os.fstat(handle.fileno()).st_size)
        except OSError as exc:
            message = f"cannot read: {exc.strerror or exc}"
            errors.append(FileResult(path=rel, error=FileError(rel, message)))
            continue
        skip = oversized(rel, size, config.limits)
        if skip is not None:
            blocking = bool(rules_for_path(config, rel))
            errors.append(FileResult(path=rel, error=dataclasses.replace(skip, blocking=blocking)))
            continue
        yield rel, data

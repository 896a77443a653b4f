"""Path globs of ssot.yml: validation and matching with .gitignore conventions (pathspec).

Configuration owns what a glob means; the engine and the service match paths through here.

pathspec turns each ``**`` into a regular expression group that may span folders; with several
of them a deep path that does not match makes Python's backtracking regex engine try every way
of splitting the path (five ``**`` against a 40-folder path: 0.3 s; eight against 80 folders:
hours, holding the GIL, so no thread helps). Globs with :data:`SEGMENT_MATCH_FROM` or more
``**`` segments are therefore matched folder by folder instead (:class:`_SegmentGlob`: a set of
positions in the glob, advanced once per folder, so the cost is at most globs segments x path
segments), with the same .gitignore meaning; the others keep pathspec's regex.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import pathspec
from pathspec.pattern import Pattern

from bot.config.model import PathFilter

Spec = pathspec.PathSpec[Pattern]

MAX_DOUBLE_STARS = 8  # ``**`` segments per glob (docs/behaviour.md §8)
SEGMENT_MATCH_FROM = 3  # globs with this many ``**`` segments are matched folder by folder


class GlobError(ValueError):
    """A glob that .gitignore conventions cannot read."""


def _check(pattern: str) -> None:
    if not isinstance(pattern, str) or not pattern.strip():
        raise GlobError(f"empty glob {pattern!r}")
    if pattern.startswith("!"):
        raise GlobError(f"glob {pattern!r}: negation is not supported; use 'exclude'")
    if pattern.count("[") != pattern.count("]"):
        raise GlobError(f"glob {pattern!r}: unbalanced '[' ']'")
    stars = _double_stars(pattern)
    if stars > MAX_DOUBLE_STARS:
        # Each ``**`` multiplies the work of matching a deep path.
        raise GlobError(
            f"glob {pattern!r}: more than {MAX_DOUBLE_STARS} '**' segments ({stars})"
        )


def _double_stars(pattern: str) -> int:
    return pattern.split("/").count("**")


_STAR = "**"  # zero or more folders
_ONE = ""  # exactly one segment, whatever it is


class _SegmentGlob:
    """One .gitignore glob matched segment by segment (no backtracking)."""

    def __init__(self, pattern: str) -> None:
        p = pattern.rstrip(" ")
        dir_only = p.endswith("/")
        p = p.rstrip("/")
        anchored = p.startswith("/") or "/" in p
        parts = [s for s in p.lstrip("/").split("/") if s]
        if not anchored:
            parts = [_STAR, *parts]
        # Consecutive ``**`` are one ``**``.
        segs: list[str] = []
        for part in parts:
            if not (part == _STAR and segs and segs[-1] == _STAR):
                segs.append(part)
        if dir_only and segs == [_STAR]:
            segs = [_ONE, _ONE, _STAR]  # ``**/``: anything inside any folder
        elif dir_only and segs[-1] != _STAR:
            segs += [_ONE, _STAR]  # ``dir/``: something inside a folder dir
        elif segs[-1] == _STAR and len(segs) > 1:
            # ``dir/**``: something inside dir (one or more segments).
            segs[-1:] = [_ONE, _STAR]
        elif segs == [_STAR]:
            segs = [_ONE, _STAR]
        elif segs[-1] == "*":
            pass  # ``dir/*``: the entries of dir only (pathspec: ``[^/]+/?$``)
        else:
            segs.append(_STAR)  # a match of a folder matches everything inside it
        self.segs = segs
        self.regex = [
            None if s in (_STAR, _ONE) else re.compile(fnmatch.translate(s.replace("**", "*")))
            for s in segs
        ]

    def _close(self, states: set[int]) -> set[int]:
        out = set(states)
        for i in sorted(states):
            while i < len(self.segs) and self.segs[i] == _STAR:
                i += 1
                out.add(i)
        return out

    def match_file(self, path: str) -> bool:
        states = self._close({0})
        for part in path.split("/"):
            step: set[int] = set()
            for i in states:
                if i >= len(self.segs):
                    continue
                seg = self.segs[i]
                if seg == _STAR:
                    step.add(i)
                elif seg == _ONE:
                    step.add(i + 1)
                else:
                    regex = self.regex[i]
                    if regex is not None and regex.match(part):
                        step.add(i + 1)
            states = self._close(step)
            if not states:
                return False
        return len(self.segs) in states


@dataclass(frozen=True, slots=True)
class Globs:
    """Compiled globs: pathspec's regex for the simple ones, segment matching for the others."""

    spec: Spec | None
    segmented: tuple[_SegmentGlob, ...]

    def match_file(self, path: str) -> bool:
        if self.spec is not None and self.spec.match_file(path):
            return True
        return any(g.match_file(path) for g in self.segmented)


@lru_cache(maxsize=1024)
def compile_globs(patterns: tuple[str, ...]) -> Globs:
    """Compile globs; :class:`GlobError` names the first one that is not a valid glob."""
    for p in patterns:
        _check(p)
    try:
        spec: Spec = pathspec.PathSpec.from_lines("gitignore", patterns)
    except Exception as exc:  # pathspec raises several types for bad patterns
        raise GlobError(f"invalid glob in {list(patterns)}: {exc}") from exc
    simple = tuple(p for p in patterns if _double_stars(p) < SEGMENT_MATCH_FROM)
    segmented = tuple(
        _SegmentGlob(p) for p in patterns if _double_stars(p) >= SEGMENT_MATCH_FROM
    )
    if len(simple) != len(patterns):
        spec = pathspec.PathSpec.from_lines("gitignore", simple)
    return Globs(spec if simple else None, segmented)


def validate_glob(pattern: str) -> None:
    """Raise :class:`GlobError` if ``pattern`` is not a usable glob."""
    compile_globs((pattern,))


def matches_any(patterns: Iterable[str], path: str) -> bool:
    pats = tuple(patterns)
    return bool(pats) and compile_globs(pats).match_file(path)


@dataclass(frozen=True, slots=True)
class CompiledFilter:
    include: Globs
    exclude: Globs | None

    def __call__(self, path: str) -> bool:
        if not self.include.match_file(path):
            return False
        return not (self.exclude is not None and self.exclude.match_file(path))


@lru_cache(maxsize=1024)
def compile_filter(f: PathFilter) -> CompiledFilter:
    return CompiledFilter(
        include=compile_globs(f.include),
        exclude=compile_globs(f.exclude) if f.exclude else None,
    )


def path_matches(f: PathFilter, path: str) -> bool:
    """True when ``path`` (root-relative, ``/``-separated) is included and not excluded."""
    return compile_filter(f)(path)


def _python_file(path: str) -> bool:
    # ``**/*.py`` as gitignore reads it: a component ending in ``.py`` (a folder too)
    return path.endswith(".py") or ".py/" in path


def path_filter(f: PathFilter) -> Callable[[str], bool]:
    """:func:`path_matches` for one filter, compiled once (a loop over many paths calls it
    without the cache look-up; the default filter, ``**/*.py`` alone, is a substring test)."""
    if f.include == ("**/*.py",) and not f.exclude:
        return _python_file
    return compile_filter(f)

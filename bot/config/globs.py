"""Path globs of ssot.yml: validation and matching with .gitignore conventions (pathspec).

Configuration owns what a glob means; the engine and the service match paths through here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pathspec
from pathspec.pattern import Pattern

from bot.config.model import PathFilter

Spec = pathspec.PathSpec[Pattern]

MAX_DOUBLE_STARS = 8  # ``**`` segments per glob (docs/behaviour.md §8)


class GlobError(ValueError):
    """A glob that .gitignore conventions cannot read."""


def _check(pattern: str) -> None:
    if not isinstance(pattern, str) or not pattern.strip():
        raise GlobError(f"empty glob {pattern!r}")
    if pattern.startswith("!"):
        raise GlobError(f"glob {pattern!r}: negation is not supported; use 'exclude'")
    if pattern.count("[") != pattern.count("]"):
        raise GlobError(f"glob {pattern!r}: unbalanced '[' ']'")
    stars = pattern.split("/").count("**")
    if stars > MAX_DOUBLE_STARS:
        # Each ``**`` multiplies the backtracking of a match against a deep path.
        raise GlobError(
            f"glob {pattern!r}: more than {MAX_DOUBLE_STARS} '**' segments ({stars})"
        )


@lru_cache(maxsize=1024)
def compile_globs(patterns: tuple[str, ...]) -> Spec:
    """Compile globs; :class:`GlobError` names the first one that is not a valid glob."""
    for p in patterns:
        _check(p)
    try:
        spec: Spec = pathspec.PathSpec.from_lines("gitignore", patterns)
        return spec
    except Exception as exc:  # pathspec raises several types for bad patterns
        raise GlobError(f"invalid glob in {list(patterns)}: {exc}") from exc


def validate_glob(pattern: str) -> None:
    """Raise :class:`GlobError` if ``pattern`` is not a usable glob."""
    compile_globs((pattern,))


def matches_any(patterns: Iterable[str], path: str) -> bool:
    pats = tuple(patterns)
    return bool(pats) and compile_globs(pats).match_file(path)


@dataclass(frozen=True, slots=True)
class CompiledFilter:
    include: Spec
    exclude: Spec | None

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

"""Typed, validated configuration. Built only by :mod:`bot.config.loader`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "notice"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "notice")

FailOn = Literal["new", "any", "never"]
ReviewMode = Literal["comment", "request-changes", "off"]
RuleKind = Literal[
    "banned-import", "banned-annotation", "banned-call", "dual-pattern", "canonical-definition"
]
RULE_KINDS: tuple[RuleKind, ...] = (
    "banned-import",
    "banned-annotation",
    "banned-call",
    "dual-pattern",
    "canonical-definition",
)


@dataclass(frozen=True, slots=True)
class PathFilter:
    """Globs with .gitignore conventions, relative to the repository root, ``/``-separated."""

    include: tuple[str, ...] = ("**/*.py",)
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of ssot.yml. Which keys are meaningful depends on ``kind``:

    - banned-import / banned-annotation: ``symbols``, ``use``
    - banned-call: ``symbols``, ``use``, ``allow`` (globs of files where calls are fine)
    - dual-pattern: ``legacy``, ``ssot``
    - canonical-definition: ``canonical`` (symbol name -> path of its canonical module)
    """

    id: str
    kind: RuleKind
    message: str
    severity: Severity = "error"
    paths: PathFilter = field(default_factory=lambda: PathFilter(("**",), ()))
    symbols: tuple[str, ...] = ()
    use: str | None = None
    allow: tuple[str, ...] = ()
    legacy: tuple[str, ...] = ()
    ssot: tuple[str, ...] = ()
    canonical: Mapping[str, str] = field(default_factory=dict)
    line: int = 0  # line of the rule in its file, for messages


MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """``limits:`` of ssot.yml: hard bounds on what one analysis may cost (hostile input)."""

    max_file_bytes: int = 1 * MIB  # a file larger than this is skipped (judged by listed size)
    max_files: int = 3000  # files checked per analysis; the rest are skipped and counted
    max_total_bytes: int = 50 * MIB  # bytes fetched per analysis
    max_annotations: int = 1000  # annotations per check run; the summary counts the rest
    analysis_time_budget: float = 300.0  # seconds; past it the check completes as failure
    max_module_fetches: int = 200  # extra blob reads per analysis to follow re-exports
    max_inventory_files: int = 50000  # a larger repository gets the inventory block's notice
    inventory_time_budget: float = 900.0  # seconds a full inventory may take (then: incomplete)


# (lowest, highest) accepted for each limit; anything else is a configuration error.
LIMIT_BOUNDS: Mapping[str, tuple[float, float]] = {
    "max_file_bytes": (1, 20 * MIB),
    "max_files": (1, 3000),
    "max_total_bytes": (1, 200 * MIB),
    "max_annotations": (0, 10000),
    "analysis_time_budget": (1, 3600),
    "max_module_fetches": (0, 2000),
    "max_inventory_files": (1, 200000),
    "inventory_time_budget": (1, 3600),
}

ClosingStep = Literal["last", "none"]


@dataclass(frozen=True, slots=True)
class InventoryTarget:
    """``tracking.inventory[i]``: keep the inventory block of ``issue`` for these rules."""

    issue: int
    rules: tuple[str, ...]  # rule ids, globs already expanded against ``rules``
    line: int = 0


@dataclass(frozen=True, slots=True)
class Tracking:
    """``tracking:`` of ssot.yml (read from the base branch, so maintainers choose it)."""

    # Other repositories whose issues PRs of this one may link to (``owner/name``, lowercase).
    repositories: tuple[str, ...] = ()
    # What a ``Closes #N`` link to a tracking issue completes: the last top-level step, or none.
    closing_step: ClosingStep = "last"
    inventory: tuple[InventoryTarget, ...] = ()


_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\Z")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}\Z")


def is_repository_name(full_name: str) -> bool:
    """``owner/name`` as GitHub allows them (no ``.``/``..`` names, no extra slashes)."""
    owner, sep, name = full_name.partition("/")
    return (
        bool(sep)
        and _OWNER.match(owner) is not None
        and _NAME.match(name) is not None
        and name not in (".", "..")
        and not name.endswith(".git")
    )


@dataclass(frozen=True, slots=True)
class Config:
    version: int = 1
    check_name: str = "SSOT"
    fail_on: FailOn = "new"
    review: ReviewMode = "comment"
    max_review_comments: int = 30
    file_time_budget: float = 10.0
    paths: PathFilter = field(default_factory=PathFilter)
    rules: tuple[Rule, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    # re-exports found in the tree (docs/behaviour.md §10), filled by the engine, not from YAML:
    # ``module.Name`` -> the names it re-exports (bot.engine.reexports)
    reexports: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    tracking: Tracking = field(default_factory=Tracking)
    source: str = "<config>"  # file name the config came from, for messages


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with a configuration file."""

    file: str
    line: int
    rule: str | None  # rule id, or ``rules[3]`` when the id is missing; None for top-level keys
    message: str

    def __str__(self) -> str:
        where = f" [{self.rule}]" if self.rule else ""
        return f"{self.file}:{self.line}:{where} {self.message}"


class ConfigError(Exception):
    """A configuration that cannot be used. ``problems`` lists every problem found, not just one."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

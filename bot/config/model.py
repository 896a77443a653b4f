"""Typed, validated configuration. Built only by :mod:`bot.config.loader`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.engine.model import Severity

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

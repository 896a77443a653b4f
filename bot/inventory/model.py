"""What the inventory of a tracking issue counts (docs/behaviour.md §11): the per-file findings
summarised into an :class:`Inventory` (totals, per rule, the files with the most violations and
their first violating line) and the history's :class:`Point`. The block's text is
:mod:`bot.inventory.messages`; placing it in a body, :mod:`bot.inventory.block`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

TOP_FILES = 20


@dataclass(frozen=True, slots=True)
class Point:
    """One analysed commit of the history."""

    date: str  # YYYY-MM-DD (UTC)
    sha: str  # 40 hex
    total: int

    def as_json(self) -> dict[str, object]:
        return {"date": self.date, "sha": self.sha, "total": self.total}


@dataclass(frozen=True, slots=True)
class FileCount:
    path: str
    count: int
    first_line: int


@dataclass(frozen=True, slots=True)
class Inventory:
    """What the block says about one commit, for one tracking issue's rules."""

    sha: str
    date: str
    rules: tuple[str, ...]
    total: int = 0
    per_rule: Mapping[str, int] = field(default_factory=dict)
    top_files: tuple[FileCount, ...] = ()
    files_with_violations: int = 0
    files_checked: int = 0
    errors: int = 0  # files that could not be analysed (not UTF-8, no parse, over budget)
    skipped_large: int = 0  # files over limits.max_file_bytes
    too_large: str | None = None  # why the repository was not analysed (over a limit)

    def as_json(self) -> dict[str, object]:
        return {
            "sha": self.sha, "date": self.date, "total": self.total,
            "rules": {r: self.per_rule.get(r, 0) for r in self.rules},
            "files": [{"path": f.path, "count": f.count, "line": f.first_line}
                      for f in self.top_files],
            "files_with_violations": self.files_with_violations,
            "files_checked": self.files_checked, "errors": self.errors,
            "skipped_large": self.skipped_large, "too_large": self.too_large,
        }


# A file's findings: (rule id, line) pairs.
Findings = Sequence[tuple[str, int]]


def summarise(
    findings: Mapping[str, Findings],
    rules: Sequence[str],
    *,
    sha: str,
    date: str,
    files_checked: int,
    errors: int = 0,
    skipped_large: int = 0,
) -> Inventory:
    """Counts of ``rules``' findings over every file (path -> findings)."""
    wanted = set(rules)
    per_rule = dict.fromkeys(rules, 0)
    files: list[FileCount] = []
    for path, found in findings.items():
        mine = [(r, line) for r, line in found if r in wanted]
        if not mine:
            continue
        for r, _ in mine:
            per_rule[r] += 1
        files.append(FileCount(path, len(mine), min(line for _, line in mine)))
    files.sort(key=lambda f: (-f.count, f.path))
    return Inventory(
        sha=sha, date=date, rules=tuple(rules), total=sum(per_rule.values()),
        per_rule=per_rule, top_files=tuple(files[:TOP_FILES]),
        files_with_violations=len(files), files_checked=files_checked, errors=errors,
        skipped_large=skipped_large)


def too_large(rules: Sequence[str], *, sha: str, date: str, reason: str) -> Inventory:
    """The inventory of a repository over a limit (not analysed); ``reason`` says which, e.g.
    ``more than 50,000 files to check (limits.max_inventory_files)``."""
    return Inventory(sha=sha, date=date, rules=tuple(rules), too_large=reason)


def previous_total(history: Sequence[Point], sha: str) -> int | None:
    """The total of the newest point that is not ``sha`` (None: no such point)."""
    for p in reversed(history):
        if p.sha != sha:
            return p.total
    return None


def expand_rules(targets: Iterable[Sequence[str]]) -> tuple[str, ...]:
    """Every rule id of the targets, first-seen order."""
    seen: dict[str, None] = {}
    for rules in targets:
        for r in rules:
            seen.setdefault(r, None)
    return tuple(seen)

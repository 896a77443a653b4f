"""The values the engine produces. Pure data, no behaviour beyond (de)serialisation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.config.model import Severity


@dataclass(frozen=True, slots=True)
class Violation:
    """One finding of one rule in one file.

    ``line``/``column`` are 1-based (column in characters); ``end_line``/``end_column`` are
    inclusive of the last line and exclusive of the last column, as libcst reports them (+1).
    ``suggestion`` is the replacement text for lines ``line..end_line`` (without the final
    newline), or None. ``fixable``: ``ssot-bot fix`` fixes it (a verified fix, see
    :mod:`bot.engine.fix`), whether or not the fix fits in a suggestion.
    """

    rule: str
    kind: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    severity: Severity
    message: str
    new: bool = True
    fingerprint: str = ""
    suggestion: str | None = None
    fixable: bool = False

    def to_json(self) -> dict[str, Any]:
        """The contract's fields (§1: ``fixable`` is the App's own, not part of the output)."""
        out = asdict(self)
        del out["fixable"]
        return out


@dataclass(frozen=True, slots=True)
class FileError:
    """A file the engine could not analyse (not UTF-8, does not parse, over its time budget),
    or that a limit kept from being read.

    ``blocking``: the file fails the check (docs/behaviour.md §13, "fail closed"): its text
    names the last word of a symbol of a rule that applies to it (so it may hold a violation
    nobody saw), or a limit skipped it unread while a rule's ``paths`` match it.
    """

    path: str
    message: str
    blocking: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message}  # the contract's shape (§1)


@dataclass(frozen=True, slots=True)
class FileResult:
    """What the engine found in one file: violations, or the error that stopped it."""

    path: str
    violations: tuple[Violation, ...] = ()
    error: FileError | None = None
    parsed: bool = field(default=False, compare=False)
    # the verified fix of the violations that have one, as a unified diff ("" when none)
    fix_diff: str = field(default="", compare=False)

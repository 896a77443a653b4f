"""Violation fingerprints that survive unrelated edits (no line numbers in them)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace

from bot.engine.model import Violation


def normalise(text: str) -> str:
    """The line's text with runs of whitespace collapsed and the ends trimmed."""
    return " ".join(text.split())


def fingerprint(rule: str, path: str, line_text: str, occurrence: int) -> str:
    """16 hex digits of sha256 over rule id, path, normalised first-line text, occurrence index."""
    payload = "\x1f".join((rule, path, normalise(line_text), str(occurrence)))
    return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def with_fingerprints(violations: Iterable[Violation], lines: Sequence[str]) -> list[Violation]:
    """Set each violation's fingerprint; ``lines[i]`` is the text of line ``i + 1``.

    Violations must come in file order: the n-th violation of a rule on identical (normalised)
    lines of one file gets occurrence index n.
    """
    seen: dict[tuple[str, str, str], int] = {}
    out: list[Violation] = []
    for v in violations:
        text = normalise(lines[v.line - 1]) if 0 < v.line <= len(lines) else ""
        key = (v.rule, v.path, text)
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(replace(v, fingerprint=fingerprint(v.rule, v.path, text, n)))
    return out

"""Every hidden marker the App writes, built and read in one place (docs/behaviour.md §5, §8,
§11, §12, §13; the texts are the contract's and never change).

Markers are HTML comments (``<!-- ssot-bot:... -->``): GitHub hides them, the App finds its own
writes again by them, so every write is idempotent. Two kinds of places hold them:

- **A comment the App wrote** (issue and PR comments, reviews, review comments) carries its
  markers on its **last line**, and that line holds nothing but markers. :func:`markers_of`
  reads only that line, only when it lies outside a fenced code block: text the App echoes
  from a pull request (a suggestion, a quoted line such as
  ``# <!-- ssot-bot:fingerprint=... -->``) sits above the marker line or inside code, so it
  never forms a marker. Whose comment it is (the App's own) is the caller's check
  (``Identity.wrote``).
- **The tracking issue's body** holds the inventory block between :data:`INVENTORY_START` and
  :data:`INVENTORY_END` alone on their lines (found by :mod:`bot.inventory.block`), with the
  history comment inside it (:func:`inventory_history` / :func:`history_payload`).

:func:`neutralise` breaks a marker's opening in text the App echoes outside code, so a person
reading the App's comment sees the same characters but nothing in it reads as a marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.markdown_lines import scan_lines

__all__ = [
    "HELP",
    "INVENTORY_END",
    "INVENTORY_START",
    "LINK_ERROR",
    "MAX_HISTORY_CHARS",
    "carries",
    "fingerprint",
    "fingerprint_tags",
    "fingerprints",
    "fixed_fingerprints",
    "history_payload",
    "inventory_clear",
    "inventory_history",
    "mark_fixed",
    "marker_line",
    "markers_of",
    "neutralise",
    "reply",
    "review",
    "step_done",
    "with_markers",
]

PREFIX = "ssot-bot:"
HELP = "<!-- ssot-bot:help -->"
LINK_ERROR = "<!-- ssot-bot:link-error -->"
INVENTORY_START = "<!-- ssot-bot:inventory start -->"
INVENTORY_END = "<!-- ssot-bot:inventory end -->"
_HISTORY_OPEN = "<!-- ssot-bot:inventory-history "
_CLOSE = " -->"
MAX_HISTORY_CHARS = 64 * 1024  # a history comment longer than this is not read (§13)

# One marker: "<!-- ssot-bot:" then no "<", ">" or line break, then " -->".
_ONE = r"<!-- ssot-bot:[^<>\r\n]{1,300}? -->"
_MARKER = re.compile(_ONE)
_LINE = re.compile(rf"{_ONE}(?:[ \t]+{_ONE})*")
_FINGERPRINT = re.compile(r"<!-- ssot-bot:fingerprint=([^\s<>]+?)( state=fixed)? -->")
_OPENING = re.compile(r"<!--(?=[ \t]*ssot-bot)", re.IGNORECASE)


# --- building --------------------------------------------------------------------------------


def fingerprint(fp: str, *, fixed: bool = False) -> str:
    """An inline comment's (or a rejected finding's) violation fingerprint (§12: ``state=fixed``
    once the finding is gone)."""
    return f"<!-- ssot-bot:fingerprint={fp}{' state=fixed' if fixed else ''} -->"


def review(head_sha: str, check_run_id: int) -> str:
    """A review's marker: unique per analysis, so a retried create finds its own review."""
    return f"<!-- ssot-bot:review head={head_sha} check-run={check_run_id} -->"


def reply(comment_id: int) -> str:
    """The reply to one ``/ssot`` command comment."""
    return f"<!-- ssot-bot:reply comment={comment_id} -->"


def step_done(pr_number: int, ids: Sequence[str]) -> str:
    """``<!-- ssot-bot:step-done pr=P steps=1.1,1.2 -->`` (the linked ids, no spaces)."""
    return f"<!-- ssot-bot:step-done pr={pr_number} steps={','.join(ids)} -->"


def inventory_clear(sha: str) -> str:
    """The one comment saying the inventory reached 0 at ``sha``."""
    return f"<!-- ssot-bot:inventory-clear sha={sha} -->"


def inventory_history(payload: str) -> str:
    """The history comment inside the inventory block (``payload``: the JSON text)."""
    return f"{_HISTORY_OPEN}{payload}{_CLOSE}"


def marker_line(markers: Iterable[str]) -> str:
    """The last line of a comment: its markers, space-separated."""
    return " ".join(markers)


def with_markers(text: str, *markers: str) -> str:
    """``text`` then one blank line and the marker line (the comment's last line)."""
    line = marker_line(markers)
    return f"{text.rstrip()}\n\n{line}" if text.strip() else line


# --- reading ---------------------------------------------------------------------------------


def _last_line(body: str) -> str | None:
    """The body's last non-blank line when it lies outside any fenced code block."""
    stripped = body.rstrip()
    if not stripped:
        return None
    cut = stripped.rfind("\n")
    last = stripped[cut + 1:].rstrip("\r \t")
    if not last.startswith("<!-- ssot-bot:"):
        return None  # fast path: most bodies end otherwise
    lines = stripped.replace("\r\n", "\n").split("\n")
    scanned = scan_lines(lines)
    if scanned[-1].fenced or (len(scanned) > 1 and scanned[-2].open_after):
        return None
    return last


def markers_of(body: str | None) -> tuple[str, ...]:
    """The markers on the last line of a comment's body: that line must hold nothing but
    markers and lie outside code; anything else in the body counts for nothing."""
    if not body:
        return ()
    last = _last_line(body)
    if last is None or _LINE.fullmatch(last) is None:
        return ()
    return tuple(_MARKER.findall(last))


def carries(body: str | None, marker: str) -> bool:
    """``body`` (a comment the caller knows is the App's) carries ``marker``."""
    return marker in markers_of(body)


def fingerprints(body: str | None) -> set[str]:
    """The fingerprints on the marker line that are not marked fixed (findings the App has
    commented on and still holds open)."""
    return {m.group(1) for mk in markers_of(body)
            if (m := _FINGERPRINT.fullmatch(mk)) and not m.group(2)}


def fixed_fingerprints(body: str | None) -> set[str]:
    """The fingerprints whose marker says ``state=fixed``."""
    return {m.group(1) for mk in markers_of(body)
            if (m := _FINGERPRINT.fullmatch(mk)) and m.group(2)}


def fingerprint_tags(body: str | None) -> list[tuple[str, bool]]:
    """``(fingerprint, fixed)`` of each fingerprint on the marker line, in its order (a
    review lists its refused findings in the same order)."""
    return [(m.group(1), bool(m.group(2))) for mk in markers_of(body)
            if (m := _FINGERPRINT.fullmatch(mk))]


def mark_fixed(body: str, only: set[str] | None = None) -> str:
    """``body`` with every fingerprint of its marker line (or those of ``only``) marked
    ``state=fixed`` (the rest of the body, echoed text included, stays as it was)."""
    last = _last_line(body) if markers_of(body) else None
    if last is None:
        return body
    at = body.rstrip().rfind(last)
    new = _FINGERPRINT.sub(lambda m: fingerprint(m.group(1), fixed=True)
                           if only is None or m.group(1) in only else m.group(0), last)
    return body[:at] + new + body[at + len(last):]


def history_payload(text: str, start: int = 0, end: int | None = None) -> str | None:
    """The JSON text of the first history comment in ``text[start:end]`` (None: none, or longer
    than :data:`MAX_HISTORY_CHARS`, which is never read)."""
    stop = len(text) if end is None else end
    at = text.find(_HISTORY_OPEN, start, stop)
    if at < 0:
        return None
    begin = at + len(_HISTORY_OPEN)
    close = text.find(_CLOSE, begin, min(stop, begin + MAX_HISTORY_CHARS + len(_CLOSE)))
    if close < 0:
        return None
    return text[begin:close]


# --- echoing ---------------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """``text`` (copied from a PR, a config or a comment) with every ``<!-- ssot-bot``
    opening broken by an invisible word joiner: it reads the same, it is no marker."""
    return _OPENING.sub("<!\u2060--", text)

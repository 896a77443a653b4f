"""`/ssot ...` commands in pull request comments (docs/behaviour.md §6): parsing and the
replies' text.

Pure: a comment body in, commands out. A command is a line ``/ssot <command> [args]`` of its
own (leading whitespace allowed) that Markdown renders as text: lines in block quotes, fenced
or indented code blocks, HTML comments and code spans are not commands.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import markers
from bot.markdown_lines import scan_lines
from bot.report.markdown import code_span

__all__ = [
    "HELP_MARKER",
    "INLINE_COMMENT",
    "KNOWN_COMMANDS",
    "MAX_COMMANDS",
    "Command",
    "from_a_bot",
    "help_text",
    "is_allowed_to_recheck",
    "parse_commands",
    "reply_to",
    "unknown_command_text",
]

# ``inventory`` is answered on tracking issues by the inventory handler; on a PR it is known,
# not valid there.
KNOWN_COMMANDS = ("recheck", "help", "inventory")
MAX_LISTED_UNKNOWN = 5
HELP_MARKER = markers.HELP
MAX_COMMANDS = 10  # per comment: a comment cannot make the bot answer without end
RECHECK_PERMISSIONS = frozenset({"admin", "maintain", "write"})

INLINE_COMMENT = 4096  # characters of a comment parsed on the event loop (a hostile 64 KiB: 18 ms)

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_COMMAND = re.compile(r"/[sS][sS][oO][tT](?:\s+(?P<rest>.*))?")  # ASCII case only (no long s)
_ANY_COMMAND = re.compile(r"/[sS][sS][oO][tT]")
_MAX_SHOWN_NAME = 60


@dataclass(frozen=True)
class Command:
    """``/ssot <name> [args]`` found on line ``line`` (1-based) of a comment; ``name`` is
    lowercased, ``""`` for a bare ``/ssot``."""

    name: str
    args: tuple[str, ...]
    line: int


def _command_in(line: str, number: int) -> Command | None:
    match = _COMMAND.fullmatch(line.strip())
    if match is None:
        return None
    words = (match.group("rest") or "").split()
    name = words[0].lower().rstrip(".,;:!?") if words else ""
    return Command(name, tuple(words[1:]), number)


def from_a_bot(comment: Mapping[str, Any], app_id: str | None) -> bool:
    """Whether ``comment`` was written by a bot (its ``user`` is of type ``Bot`` or its login
    ends in ``[bot]``) or through this App: a bot's ``/ssot`` lines are never commands."""
    user = comment.get("user") or {}
    via_app = (comment.get("performed_via_github_app") or {}).get("id")
    return (user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]")
            or (via_app is not None and str(via_app) == str(app_id)))


def parse_commands(body: str | None) -> list[Command]:
    """Every ``/ssot`` command in a comment, in order, identical ones (name and args) once."""
    if not body or _ANY_COMMAND.search(body) is None:
        return []
    return list(_parse(body))


@functools.lru_cache(maxsize=8)
def _parse(body: str) -> tuple[Command, ...]:
    """One parse per comment: every handler of an ``issue_comment`` delivery asks."""
    found: list[Command] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    lines = _LINE_BREAK.split(body)
    for number, (raw, md) in enumerate(
            zip(lines, scan_lines(lines, indented_code=True), strict=True), start=1):
        if not md.visible or md.text != raw:
            continue  # code, quotes, and lines an HTML comment touches are not commands
        command = _command_in(raw, number)
        if command is None:
            continue
        key = (command.name, command.args)
        if key in seen:
            continue
        seen.add(key)
        found.append(command)
        if len(found) == MAX_COMMANDS:
            break
    return tuple(found)


def help_text() -> str:
    """The reply to ``/ssot help``: the commands and who may use them."""
    return "\n".join([
        "**ssot-bot commands**: write one on a line of its own in a pull request comment.",
        "",
        "| Command | What it does | Who may use it |",
        "| --- | --- | --- |",
        "| `/ssot recheck` | Analyse the pull request's current head again "
        "(check run and review). | The pull request's author, and people with write or "
        "admin permission on the repository. |",
        "| `/ssot help` | Show this list. | Anyone. |",
        "| `/ssot inventory` | Refresh the inventory block of a tracking issue (in a comment "
        "on that issue, not on a pull request). | People with write or admin permission. |",
        "",
        "The **Re-run SSOT** button on the check run does the same as `/ssot recheck`. "
        "Commands in quotes or code blocks are ignored.",
        "",
        HELP_MARKER,
    ])


def _shown(cmd: Command) -> str:
    return code_span(f"/ssot {cmd.name}".rstrip(), limit=_MAX_SHOWN_NAME)


def unknown_command_text(cmd: Command) -> str:
    """The reply to an unknown ``/ssot ...``: says which, then the help."""
    return f"Unknown command {_shown(cmd)}.\n\n{help_text()}"


def reply_to(commands: Sequence[Command]) -> tuple[str | None, bool]:
    """The one reply to a comment's commands other than ``recheck`` (help, unknown ones,
    ``inventory`` on a pull request) and whether to react ``confused``: ``(None, False)`` when
    nothing needs saying. However many ``/ssot`` lines a comment holds, it gets one reply."""
    unknown = [c for c in commands if c.name not in KNOWN_COMMANDS]
    wants_help = any(c.name == "help" for c in commands)
    inventory = any(c.name == "inventory" for c in commands)
    parts: list[str] = []
    if unknown:
        shown = ", ".join(_shown(c) for c in unknown[:MAX_LISTED_UNKNOWN])
        more = len(unknown) - MAX_LISTED_UNKNOWN
        if more > 0:
            shown += f" and {more} more"
        word = "command" if len(unknown) == 1 else "commands"
        parts.append(f"Unknown {word} {shown}.")
    if inventory:
        parts.append("`/ssot inventory` works in a comment on a tracking issue that the "
                     "configuration lists under `tracking: {inventory: ...}`, not on a pull "
                     "request.")
    if not parts and not wants_help:
        return None, False
    if unknown or wants_help:
        parts.append(help_text())
    return "\n\n".join(parts), bool(unknown)


def is_allowed_to_recheck(*, commenter: str, pr_author: str, permission: str | None) -> bool:
    """The PR's author (logins compare case-insensitively), or a user whose collaborator
    ``permission`` is ``admin`` or ``write`` (GitHub reports maintain as write, triage as read;
    ``maintain`` itself is accepted too should GitHub ever report it)."""
    if commenter and commenter.casefold() == pr_author.casefold():
        return True
    return (permission or "").strip().lower() in RECHECK_PERMISSIONS

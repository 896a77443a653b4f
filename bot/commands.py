"""`/ssot ...` commands in pull request comments (docs/behaviour.md §6): parsing and the
replies' text.

Pure: a comment body in, commands out. A command is a line ``/ssot <command> [args]`` of its
own (leading whitespace allowed) that Markdown renders as text: lines in block quotes, fenced
or indented code blocks, HTML comments and code spans are not commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "HELP_MARKER",
    "KNOWN_COMMANDS",
    "MAX_COMMANDS",
    "Command",
    "help_text",
    "is_allowed_to_recheck",
    "parse_commands",
    "unknown_command_text",
]

KNOWN_COMMANDS = ("recheck", "help")
HELP_MARKER = "<!-- ssot-bot:help -->"
MAX_COMMANDS = 10  # per comment: a comment cannot make the bot answer without end
RECHECK_PERMISSIONS = frozenset({"admin", "maintain", "write"})

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_COMMAND = re.compile(r"/[sS][sS][oO][tT](?:\s+(?P<rest>.*))?")  # ASCII case only (no long s)
_FENCE_OPEN = re.compile(r"(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_MAX_SHOWN_NAME = 60


@dataclass(frozen=True)
class Command:
    """``/ssot <name> [args]`` found on line ``line`` (1-based) of a comment; ``name`` is
    lowercased, ``""`` for a bare ``/ssot``."""

    name: str
    args: tuple[str, ...]
    line: int


def _indent(line: str) -> int:
    """Columns of leading whitespace (a tab advances to the next multiple of 4)."""
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _command_in(line: str, number: int) -> Command | None:
    match = _COMMAND.fullmatch(line.strip())
    if match is None:
        return None
    words = (match.group("rest") or "").split()
    name = words[0].lower().rstrip(".,;:!?") if words else ""
    return Command(name, tuple(words[1:]), number)


def parse_commands(body: str | None) -> list[Command]:
    """Every ``/ssot`` command in a comment, in order, identical ones (name and args) once."""
    if not body:
        return []
    found: list[Command] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    fence: str | None = None  # the open fenced code block's fence
    in_html_comment = False
    in_indented_code = False
    previous_blank = True  # the start of a comment counts as after a blank line
    for number, line in enumerate(_LINE_BREAK.split(body), start=1):
        stripped = line.strip()
        blank = not stripped
        if fence is not None:
            if _closes(line, fence):
                fence = None
            previous_blank = False
            continue
        if in_html_comment:
            in_html_comment = "-->" not in line
            previous_blank = False
            continue
        if in_indented_code:
            if blank or _indent(line) >= 4:
                previous_blank = blank
                continue
            in_indented_code = False
        if blank:
            previous_blank = True
            continue
        if _indent(line) >= 4 and previous_blank:
            in_indented_code = True
            continue
        previous_blank = False
        opened = _FENCE_OPEN.fullmatch(stripped)
        if opened and not (opened["fence"][0] == "`" and "`" in opened["info"]):
            fence = opened["fence"]
            continue
        if stripped.startswith("<!--"):
            in_html_comment = "-->" not in stripped[4:]
            continue
        if stripped.startswith(">"):
            continue  # a quoted reply, however deeply nested
        command = _command_in(line, number)
        if command is None:
            continue
        key = (command.name, command.args)
        if key in seen:
            continue
        seen.add(key)
        found.append(command)
        if len(found) == MAX_COMMANDS:
            break
    return found


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
        "",
        "The **Re-run SSOT** button on the check run does the same as `/ssot recheck`. "
        "Commands in quotes or code blocks are ignored.",
        "",
        HELP_MARKER,
    ])


def _shown(cmd: Command) -> str:
    text = f"/ssot {cmd.name}".rstrip()
    if len(text) > _MAX_SHOWN_NAME:
        text = text[: _MAX_SHOWN_NAME - 1] + "…"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.endswith("`") else ""
    return f"{fence}{text}{pad}{fence}"


def unknown_command_text(cmd: Command) -> str:
    """The reply to an unknown ``/ssot ...``: says which, then the help."""
    return f"Unknown command {_shown(cmd)}.\n\n{help_text()}"


def is_allowed_to_recheck(*, commenter: str, pr_author: str, permission: str | None) -> bool:
    """The PR's author (logins compare case-insensitively), or a user whose collaborator
    ``permission`` is ``admin`` or ``write`` (GitHub reports maintain as write, triage as read;
    ``maintain`` itself is accepted too should GitHub ever report it)."""
    if commenter and commenter.casefold() == pr_author.casefold():
        return True
    return (permission or "").strip().lower() in RECHECK_PERMISSIONS

"""A stateful GitHub emulator, validated against GitHub's OpenAPI description.

Tests and ``ssot-bot demo`` start the bot's webhook service and this emulator on loopback: it
serves the REST endpoints the bot calls, checks every request against the OpenAPI description,
records requests, injects faults, and sends signed webhooks. ::

    emu = GitHubEmulator(OPENAPI_SUBSET)
    emu.add_installation(1, "acme")
    emu.add_repo("acme/app", {"a.py": "x = 1\\n"}, installation_id=1)
    async with EmulatorServer(emu) as base_url:
        ...
"""

from ssot_emulator.auth import IssuedToken
from ssot_emulator.diff import hunks, resolve_line, unified_patch
from ssot_emulator.endpoints import Recorded
from ssot_emulator.errors import HTTPError
from ssot_emulator.faults import Fault
from ssot_emulator.openapi import OPENAPI_SUBSET
from ssot_emulator.server import EmulatorServer, GitHubEmulator
from ssot_emulator.state import (
    CheckRun,
    Commit,
    EmulatorState,
    Issue,
    IssueComment,
    NotFound,
    PullFile,
    PullRequest,
    Reaction,
    Repository,
    Review,
    ReviewComment,
    blob_sha,
)

__all__ = [
    "OPENAPI_SUBSET",
    "CheckRun",
    "Commit",
    "EmulatorServer",
    "EmulatorState",
    "Fault",
    "GitHubEmulator",
    "HTTPError",
    "Issue",
    "IssueComment",
    "IssuedToken",
    "NotFound",
    "PullFile",
    "PullRequest",
    "Reaction",
    "Recorded",
    "Repository",
    "Review",
    "ReviewComment",
    "blob_sha",
    "hunks",
    "resolve_line",
    "unified_patch",
]

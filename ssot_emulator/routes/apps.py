"""The App and its installations: ``/app``, installation access tokens, the repositories an
installation sees."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from ssot_emulator.auth import LEVELS, IssuedToken
from ssot_emulator.endpoints import Call, Endpoints, Reply, listing, page
from ssot_emulator.errors import not_found, validation_failed
from ssot_emulator.state import iso

if TYPE_CHECKING:
    from ssot_emulator.server import GitHubEmulator

route = Endpoints(prefix="")
routes = route.table


@route("GET", "/app", auth="jwt")
def get_app(emu: GitHubEmulator, call: Call) -> Reply:
    return Reply(200, emu.shapes.app())


@route("POST", "/app/installations/{installation_id}/access_tokens", auth="jwt")
def access_token(emu: GitHubEmulator, call: Call) -> Reply:
    installation_id = call.number("installation_id")
    if installation_id not in emu.installations:
        raise not_found()
    granted = dict(emu.shapes.permissions)
    wanted = (call.body or {}).get("permissions") if isinstance(call.body, dict) else None
    if wanted:
        for name, value in wanted.items():
            if LEVELS.get(granted.get(name, ""), 0) < LEVELS.get(value, 9):
                raise validation_failed(
                    "Installation", "permissions",
                    f"The permissions requested are not granted to this installation: {name}")
        granted = dict(wanted)
    token = "ghs_" + secrets.token_hex(18)
    expires = emu.clock() + emu.token_lifetime
    emu.tokens[token] = IssuedToken(installation_id, expires, granted)
    return Reply(201, {"token": token, "expires_at": iso(expires), "permissions": granted,
                       "repository_selection": "all"})


@route("GET", "/app/installations", auth="jwt")
def list_installations(emu: GitHubEmulator, call: Call) -> Reply:
    return listing(emu, call, [emu.shapes.installation_full(i) for i in sorted(emu.installations)])


@route("GET", "/installation/repositories", auth="installation")
def installation_repositories(emu: GitHubEmulator, call: Call) -> Reply:
    repos = [r for r in emu.repos() if r.installation_id == call.installation_id]
    chunk, headers = page(emu, call, repos)
    return Reply(200, {"total_count": len(repos), "repository_selection": "all",
                       "repositories": [emu.shapes.repo(r) for r in chunk]}, headers)

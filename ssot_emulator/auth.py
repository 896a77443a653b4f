"""App authentication as GitHub checks it: the App's JWT, installation tokens and their
permissions; :func:`auth_middleware` applies a route's :class:`~ssot_emulator.endpoints.Access`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import jwt
from aiohttp import web

from ssot_emulator.endpoints import EMULATOR, AioHandler, Exchange, access_of, exchange
from ssot_emulator.errors import DOCS, HTTPError, not_found
from ssot_emulator.state import NotFound

if TYPE_CHECKING:
    from ssot_emulator.server import GitHubEmulator

MAX_JWT_LIFETIME = 600
CLOCK_SKEW = 60
LEVELS = {"read": 1, "write": 2, "admin": 3}


@dataclass
class IssuedToken:
    installation_id: int
    expires_at: float
    permissions: dict[str, str]


def credential(header: str) -> tuple[str, str]:
    """(kind, value) of an Authorization header: ``jwt``, ``token``, ``other`` or ``none``."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if not header.strip():
        return "none", ""
    if scheme.lower() not in ("bearer", "token") or not value:
        return "other", ""
    if value.startswith(("ghs_", "ghu_")):
        return "token", value
    if value.count(".") == 2:
        return "jwt", value
    return "other", ""


def live_token(emu: GitHubEmulator, found: Exchange, doc: str = DOCS) -> IssuedToken:
    """The request's installation token, unless it is unknown or expired (401)."""
    issued = emu.tokens.get(found.credential) if found.auth_kind == "token" else None
    if issued is None or issued.expires_at <= emu.clock():
        raise HTTPError(401, "Bad credentials", doc=doc)
    return issued


def check_jwt(emu: GitHubEmulator, found: Exchange) -> None:
    bad = HTTPError(401, "A JSON web token could not be decoded")
    if found.auth_kind != "jwt":
        raise bad
    try:
        claims = jwt.decode(
            found.credential, emu.public_key, algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                     "require": ["iat", "exp", "iss"]})
    except jwt.PyJWTError:
        raise bad from None
    now = emu.clock()
    try:
        iat, exp = float(claims["iat"]), float(claims["exp"])
    except (TypeError, ValueError):
        raise bad from None
    if str(claims["iss"]) != str(emu.app_id):
        raise HTTPError(401, "'Issuer' claim ('iss') must be an Integer")
    if exp - iat > MAX_JWT_LIFETIME or exp < now - CLOCK_SKEW or iat > now + CLOCK_SKEW:
        raise HTTPError(401, "'Expiration time' claim ('exp') is too far in the future"
                        if exp - iat > MAX_JWT_LIFETIME else
                        "A JSON web token could not be decoded")


def check_repo_token(emu: GitHubEmulator, found: Exchange, perms: tuple[str, ...],
                     level: str) -> IssuedToken:
    """A token of the repository's installation holding one of ``perms`` at ``level``."""
    call = found.call
    issued = live_token(emu, found)
    try:
        repo = emu.repo(f"{call.params['owner']}/{call.params['repo']}")
    except NotFound:
        raise not_found() from None
    if repo.installation_id != issued.installation_id:
        raise HTTPError(401, "Bad credentials")
    if perms and not any(LEVELS.get(issued.permissions.get(p, ""), 0) >= LEVELS[level]
                         for p in perms):
        raise HTTPError(403, "Resource not accessible by integration")
    call.repo = repo
    return issued


@web.middleware
async def auth_middleware(request: web.Request, handler: AioHandler) -> web.StreamResponse:
    access = access_of(request)
    emu, found = request.app[EMULATOR], exchange(request)
    if access is None or access.kind == "raw":
        return await handler(request)
    if access.kind == "jwt":
        check_jwt(emu, found)
        return await handler(request)
    issued = (live_token(emu, found, access.doc or DOCS) if access.kind == "installation"
              else check_repo_token(emu, found, access.perms, access.level))
    found.call.installation_id = issued.installation_id
    found.call.actor = emu.bot_login
    return await handler(request)

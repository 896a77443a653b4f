"""The emulator's ``web.Application``: the route tables of :mod:`ssot_emulator.routes` and the
middlewares every request goes through, outermost first:

recording (the request log, response validation) -> rate-limit headers -> GitHub's JSON errors
-> conditional requests (ETag, 304) -> injected faults -> exhausted rate limits -> unknown
endpoints -> OpenAPI audit -> authentication -> OpenAPI rejection -> the handler.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ssot_emulator.auth import auth_middleware, credential
from ssot_emulator.endpoints import (
    EMULATOR,
    AioHandler,
    Call,
    Exchange,
    Recorded,
    access_of,
    begin,
    exchange,
)
from ssot_emulator.errors import HTTPError, error_response, json_response, not_found
from ssot_emulator.faults import faults_middleware
from ssot_emulator.ratelimits import rate_exhausted_middleware, rate_headers_middleware
from ssot_emulator.routes import TABLES

if TYPE_CHECKING:
    from ssot_emulator.server import GitHubEmulator

_RECORDED_HEADERS = ("accept", "user-agent", "content-type")


def build_app(emulator: GitHubEmulator) -> web.Application:
    application = web.Application(client_max_size=100 * 1024 * 1024, middlewares=[
        recording_middleware, rate_headers_middleware, errors_middleware,
        conditional_middleware, faults_middleware, rate_exhausted_middleware,
        unknown_endpoint_middleware, openapi_audit_middleware, auth_middleware,
        openapi_reject_middleware])
    application[EMULATOR] = emulator
    for table in TABLES:
        application.add_routes(table)
    return application


async def _incoming(request: web.Request) -> Exchange:
    raw = await request.read()
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
    kind, value = credential(request.headers.get("Authorization", ""))
    call = Call(request.method.upper(), request.path, dict(request.match_info),
                {k: request.query.getall(k) for k in request.query}, body,
                f"{request.scheme}://{request.host}")
    return Exchange(call, raw, kind, value)


_VALIDATING = threading.Lock()  # the validator's schema caches are not shared between threads
_LARGE = 64 * 1024  # bytes of a body validated off the loop


async def _validated(size: int, check: Callable[[], list[str]]) -> list[str]:
    """``check``'s problems; a large body is validated in a thread: in tests the emulator
    shares the service's event loop, and checking a 1 MiB answer there (80 ms) was measured as
    the service's own stall, which against GitHub it is not."""
    if size < _LARGE:
        return check()

    def locked() -> list[str]:
        with _VALIDATING:
            return check()

    return await asyncio.to_thread(locked)


@web.middleware
async def recording_middleware(request: web.Request, handler: AioHandler) -> web.StreamResponse:
    """Every answer in :attr:`GitHubEmulator.requests`; with ``validate_responses``, answers
    checked against the description's response schemas. ``raw`` routes bypass the chain."""
    access = access_of(request)
    if access is not None and access.kind == "raw":
        return await request.match_info.handler(request)
    found = await _incoming(request)
    begin(request, found)
    response = await handler(request)
    emu, call = request.app[EMULATOR], found.call
    emu.requests.append(Recorded(
        call.method, call.path, {k: v[0] for k, v in call.query.items()}, call.body,
        response.status, found.auth_kind,
        {k.lower(): v for k, v in request.headers.items() if k.lower() in _RECORDED_HEADERS},
        emu.clock(), fault=found.fault is not None and found.fault.status is not None))
    if (emu.validate_responses and emu.validator is not None and found.fault is None
            and response.status != 304 and (access is None or access.validate)):
        assert isinstance(response, web.Response)
        body = response.body if isinstance(response.body, bytes) else b""
        validator, status, headers = emu.validator, response.status, dict(response.headers)
        problems = await _validated(len(body), lambda: list(validator.response_errors(
            call.method, call.path, call.query, status, headers, body)))
        emu.response_violations.extend(
            f"{call.method} {call.path} -> {status}: {problem}" for problem in problems)
    return response


@web.middleware
async def errors_middleware(request: web.Request, handler: AioHandler) -> web.StreamResponse:
    """An :class:`HTTPError` raised anywhere below answers as GitHub's JSON error body."""
    try:
        return await handler(request)
    except HTTPError as exc:
        return error_response(exc)


@web.middleware
async def conditional_middleware(request: web.Request,
                                 handler: AioHandler) -> web.StreamResponse:
    """GitHub's conditional requests: an unchanged answer is 304 (and costs no rate limit)."""
    response = await handler(request)
    if (request.method != "GET" or response.status != 200 or exchange(request).fault is not None
            or not isinstance(response, web.Response) or not isinstance(response.body, bytes)):
        return response
    etag = 'W/"' + hashlib.sha256(response.body).hexdigest() + '"'
    response.headers.setdefault("ETag", etag)
    if etag in request.headers.get("If-None-Match", ""):
        return json_response(304, None, {"ETag": etag})
    return response


@web.middleware
async def unknown_endpoint_middleware(request: web.Request,
                                      handler: AioHandler) -> web.StreamResponse:
    if request.match_info.http_exception is None:
        return await handler(request)
    request.app[EMULATOR].openapi_violations.append(
        f"{request.method.upper()} {request.path}: endpoint not in the OpenAPI description")
    raise not_found()


@web.middleware
async def openapi_audit_middleware(request: web.Request,
                                   handler: AioHandler) -> web.StreamResponse:
    """The request checked against the description; problems are logged before authentication
    and answered (422) after it."""
    emu, found, access = request.app[EMULATOR], exchange(request), access_of(request)
    if emu.validator is not None and access is not None and access.validate:
        call, validator, headers = found.call, emu.validator, dict(request.headers)
        found.problems = await _validated(len(found.raw or b""), lambda: list(validator.errors(
            call.method, call.path, call.query, headers, found.raw or None,
            request.headers.get("Content-Type", ""))))
        emu.openapi_violations.extend(f"{call.method} {call.path}: {p}" for p in found.problems)
    return await handler(request)


@web.middleware
async def openapi_reject_middleware(request: web.Request,
                                    handler: AioHandler) -> web.StreamResponse:
    found, access = exchange(request), access_of(request)
    if access is None or not access.validate:
        return await handler(request)
    if found.problems:
        raise HTTPError(422, "Invalid request.\n\n" + "\n".join(found.problems), errors=[
            {"resource": "Request", "code": "custom", "field": "", "message": problem}
            for problem in found.problems])
    if found.raw and found.call.body is None:
        raise HTTPError(400, "Problems parsing JSON")
    return await handler(request)

"""Injected faults: the next requests matching a method and a path answer an error (or a rate
limit) or are delayed; :func:`faults_middleware` applies them, after the emulator's latency."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

from ssot_emulator.endpoints import EMULATOR, AioHandler, exchange
from ssot_emulator.errors import DOCS, RATE_DOCS, json_response, rate_limited


@dataclass
class Fault:
    """Answers (or delays) the next ``times`` requests whose method and path match."""

    method: str
    path_regex: str
    status: int | None = 502
    times: int = 1
    retry_after: int | None = None
    delay: float = 0.0
    rate_limit: Literal["primary", "secondary"] | None = None
    used: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.used < self.times
                and self.method.upper() in ("*", method.upper())
                and re.search(self.path_regex, path) is not None)

    @property
    def answers(self) -> bool:
        """False for a fault that only delays."""
        return self.status is not None or self.rate_limit is not None

    def response(self, now: float) -> web.Response:
        headers: dict[str, str] = {}
        if self.retry_after is not None and self.rate_limit != "primary":
            headers["Retry-After"] = str(self.retry_after)
        if self.rate_limit == "primary":
            return rate_limited(int(now) + (1 if self.retry_after is None else self.retry_after))
        if self.rate_limit == "secondary":
            return json_response(429 if self.status == 429 else 403, {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                           "before you try again.",
                "documentation_url": RATE_DOCS}, headers)
        status = self.status or 502
        message = "Server Error" if status >= 500 else "Injected fault"
        return json_response(status, {"message": message, "documentation_url": DOCS}, headers)


@dataclass
class Faults:
    """The faults injected so far, in the order they are tried."""

    items: list[Fault] = field(default_factory=list)

    def take(self, method: str, path: str) -> Fault | None:
        for fault in self.items:
            if fault.matches(method, path):
                fault.used += 1
                return fault
        return None


@web.middleware
async def faults_middleware(request: web.Request, handler: AioHandler) -> web.StreamResponse:
    emu = request.app[EMULATOR]
    if emu.latency:
        await asyncio.sleep(emu.latency)
    fault = emu.fault_plan.take(request.method.upper(), request.path)
    exchange(request).fault = fault
    if fault is not None and fault.delay:
        await asyncio.sleep(fault.delay)
    if fault is not None and fault.answers:
        return fault.response(emu.clock())
    return await handler(request)


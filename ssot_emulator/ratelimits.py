"""GitHub's primary rate limits: a bucket per installation (per token, per address without
one), a separate one for GraphQL; the ``x-ratelimit-*`` headers, and 403 once a bucket is empty
(when enforced)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from ssot_emulator.endpoints import EMULATOR, AioHandler, Exchange, exchange
from ssot_emulator.errors import rate_limited
from ssot_emulator.graphql import Bucket

RATE_LIMIT = 5000
ANON_RATE_LIMIT = 60


@dataclass
class RateLimits:
    clock: Callable[[], float]
    buckets: dict[str, Bucket] = field(default_factory=dict)
    # True: a request whose bucket is empty is answered 403 (primary rate limit), as GitHub
    # does; off by default so load benchmarks are not cut short
    enforce: bool = False

    @staticmethod
    def installation_key(installation_id: int, resource: str = "core") -> str:
        key = f"installation:{installation_id}"
        return key if resource == "core" else f"{key}:{resource}"

    def key(self, found: Exchange, installation_id: int | None, remote: str | None) -> str:
        """The bucket a request counts against (``installation_id``: its token's)."""
        resource = "graphql" if found.call.path == "/graphql" else "core"
        if installation_id is not None:
            return self.installation_key(installation_id, resource)
        who = (f"{found.auth_kind}:{found.credential}" if found.auth_kind != "none"
               else f"ip:{remote}")
        return who if resource == "core" else f"{who}:{resource}"

    def set(self, installation_id: int, remaining: int, *, limit: int, reset_in: float,
            resource: str) -> None:
        self.buckets[self.installation_key(installation_id, resource)] = Bucket(
            limit, remaining, int(self.clock() + reset_in))

    def bucket(self, key: str, kind: str) -> Bucket:
        """The bucket under ``key``, refilled once its hour is over."""
        now = int(self.clock())
        bucket = self.buckets.get(key)
        if bucket is None or bucket.reset <= now:
            limit = ANON_RATE_LIMIT if kind == "none" else RATE_LIMIT
            bucket = Bucket(limit, limit, now + 3600)
            self.buckets[key] = bucket
        return bucket

    def exhausted(self, key: str) -> Bucket | None:
        """The request's bucket if it is enforced and empty."""
        bucket = self.buckets.get(key)
        if (not self.enforce or bucket is None or bucket.reset <= int(self.clock())
                or bucket.remaining > 0):
            return None
        return bucket


def request_key(request: web.Request) -> str:
    emu, found = request.app[EMULATOR], exchange(request)
    issued = emu.tokens.get(found.credential) if found.auth_kind == "token" else None
    return emu.rate_limits.key(found, issued.installation_id if issued else None,
                               request.remote)


@web.middleware
async def rate_headers_middleware(request: web.Request,
                                  handler: AioHandler) -> web.StreamResponse:
    """The bucket's headers after the request (a 304 is not counted, as on GitHub); headers
    the answer already has (a fault's, a 403's) are kept."""
    response = await handler(request)
    found = exchange(request)
    bucket = request.app[EMULATOR].rate_limits.bucket(request_key(request), found.auth_kind)
    if response.status != 304:
        bucket.remaining = max(0, bucket.remaining - 1)
    for name, value in (("x-ratelimit-limit", str(bucket.limit)),
                        ("x-ratelimit-remaining", str(bucket.remaining)),
                        ("x-ratelimit-used", str(bucket.limit - bucket.remaining)),
                        ("x-ratelimit-reset", str(bucket.reset)),
                        ("x-ratelimit-resource",
                         "graphql" if request.path == "/graphql" else "core")):
        response.headers.setdefault(name, value)
    return response


@web.middleware
async def rate_exhausted_middleware(request: web.Request,
                                    handler: AioHandler) -> web.StreamResponse:
    empty = request.app[EMULATOR].rate_limits.exhausted(request_key(request))
    if empty is not None:
        return rate_limited(empty.reset)
    return await handler(request)

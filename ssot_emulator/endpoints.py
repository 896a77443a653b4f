"""What a route module needs: :class:`Endpoints` (an aiohttp ``RouteTableDef`` whose handlers take
the emulator and a :class:`Call` and answer a :class:`Reply`), each route's :class:`Access`
(read by the auth and validation middlewares), the per-request :class:`Exchange`, pagination.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlencode

from aiohttp import web

from ssot_emulator.errors import DOCS, json_response, not_found
from ssot_emulator.state import NotFound

if TYPE_CHECKING:
    from ssot_emulator.faults import Fault
    from ssot_emulator.server import GitHubEmulator
    from ssot_emulator.state import Repository

EMULATOR = web.AppKey["GitHubEmulator"]("emulator")


@dataclass
class Call:
    """One request as the handlers see it."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    origin: str
    actor: str = ""
    installation_id: int | None = None
    repo: Repository | None = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def number(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise not_found() from None

    @property
    def repository(self) -> Repository:
        """The repository of a ``repo`` route (set by authentication)."""
        assert self.repo is not None
        return self.repo

    @property
    def full_name(self) -> str:
        return self.repository.full_name


@dataclass
class Recorded:
    """One request the emulator answered. The Authorization value is never stored: ``auth``
    says only what kind it was (``jwt``, ``token``, ``other`` or ``none``)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int
    auth: str
    headers: dict[str, str]
    at: float
    fault: bool = False


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Access:
    """Who may call a route: ``jwt`` (the App), ``installation`` (any installation token),
    ``repo`` (a token of the repository's installation with one of ``perms`` at ``level``),
    ``raw`` (served as it is, past every middleware). ``validate``: checked against the
    OpenAPI description; ``doc``: the documentation URL of a 401."""

    kind: Literal["jwt", "installation", "repo", "raw"] = "repo"
    perms: tuple[str, ...] = ()
    level: str = "read"
    validate: bool = True
    doc: str | None = None


@dataclass
class Exchange:
    """A request on its way through the middlewares."""

    call: Call
    raw: bytes
    auth_kind: str
    credential: str
    fault: Fault | None = None
    problems: list[str] = field(default_factory=list)


_EXCHANGE = web.RequestKey("exchange", Exchange)
Handler = Callable[["GitHubEmulator", Call], Reply]
AioHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ACCESS: dict[AioHandler, Access] = {}


class Endpoints:
    """One resource's routes on an aiohttp ``RouteTableDef`` (GitHub-style ``{name}`` params)."""

    def __init__(self, prefix: str = "/repos/{owner}/{repo}") -> None:
        self.table = web.RouteTableDef()
        self._prefix = prefix

    def __call__(self, method: str, path: str, *, auth: Literal["jwt", "installation", "repo"]
                 = "repo", perms: tuple[str, ...] = (), level: str = "read",
                 validate: bool = True, doc: str | None = None) -> Callable[[Handler], Handler]:
        """Registers ``handler`` for ``method`` on ``path`` (after the table's prefix)."""
        def register(handler: Handler) -> Handler:
            async def serve(request: web.Request) -> web.StreamResponse:
                reply = handler(request.app[EMULATOR], exchange(request).call)
                return json_response(reply.status, reply.body, reply.headers)

            self.raw(method, self._prefix + path,
                     access=Access(auth, perms, level, validate, doc))(serve)
            return handler
        return register

    def raw(self, method: str, path: str, *,
            access: Access = Access("raw")) -> Callable[[AioHandler], AioHandler]:
        """Registers an aiohttp handler on ``path`` as it is (by default past every
        middleware)."""
        def register(handler: AioHandler) -> AioHandler:
            _ACCESS[handler] = access
            # no implicit HEAD beside a GET: GitHub's description has none
            extra = {"allow_head": False} if method == "GET" else {}
            self.table.route(method, path, **extra)(handler)
            return handler
        return register


def access_of(request: web.Request) -> Access | None:
    """The matched route's access (None: no route matched)."""
    return _ACCESS.get(request.match_info.handler)


def exchange(request: web.Request) -> Exchange:
    return request[_EXCHANGE]


def begin(request: web.Request, found: Exchange) -> None:
    request[_EXCHANGE] = found


_K = TypeVar("_K")
_T = TypeVar("_T")


def existing(lookup: Callable[[str, _K], _T], call: Call, key: _K, doc: str = DOCS) -> _T:
    """``lookup(repository, key)``, or 404 when the repository has no such thing."""
    try:
        return lookup(call.full_name, key)
    except NotFound:
        raise not_found(doc) from None


def page(emu: GitHubEmulator, call: Call, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """``items`` cut by ``per_page``/``page``, with GitHub's ``Link`` header when there is more
    than one page."""
    try:
        per_page = min(100, max(1, int(call.arg("per_page", "30") or "30")))
        number = max(1, int(call.arg("page", "1") or "1"))
    except ValueError:
        per_page, number = 30, 1
    last = max(1, -(-len(items) // per_page))
    chunk = items[(number - 1) * per_page: number * per_page]
    if last == 1:
        return chunk, {}
    base = (emu.base_url or call.origin).rstrip("/") + call.path

    def url(target: int) -> str:
        query = {k: v[0] for k, v in call.query.items()}
        query["page"] = str(target)
        return f"{base}?{urlencode(query)}"

    links: list[str] = []
    if number > 1:
        links.append(f'<{url(min(number - 1, last))}>; rel="prev"')
    if number < last:
        links.append(f'<{url(number + 1)}>; rel="next"')
        links.append(f'<{url(last)}>; rel="last"')
    if number > 1:
        links.append(f'<{url(1)}>; rel="first"')
    return chunk, {"Link": ", ".join(links)}


def listing(emu: GitHubEmulator, call: Call, items: list[Any]) -> Reply:
    chunk, headers = page(emu, call, items)
    return Reply(200, chunk, headers)

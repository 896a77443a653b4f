"""The only module that talks HTTP to GitHub.

- :class:`RetryingAPI` is gidgethub's aiohttp client with the one retry policy
  (:mod:`bot.github.retry`) around each request: backoff on 5xx and network errors,
  ``Retry-After`` / ``x-ratelimit-reset`` on primary and secondary rate limits.
- :class:`TokenCache` mints installation tokens with the App JWT and keeps each one until shortly
  before ``expires_at``.
- :class:`Repo` is one repository seen through one installation: the domain calls the handlers
  make, each a short method. A 401 refreshes the installation token once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

import aiohttp
import cachetools
import gidgethub
import gidgethub.aiohttp
import gidgethub.sansio
from cryptography.hazmat.primitives import serialization
from gidgethub import apps

from bot import __version__, markers
from bot.github import retry
from bot.github.retry import RetryPolicy

log = logging.getLogger(__name__)

T = TypeVar("T")
USER_AGENT = f"ssot-bot/{__version__}"
TOKEN_REFRESH_MARGIN = 300.0  # seconds before expires_at at which a cached token is renewed
BLOBS_PER_QUERY = 50  # file contents read in one GraphQL query (docs/behaviour.md §14)
ETAG_BYTES = 64 * 1024 * 1024  # answers kept for conditional requests, every installation
INSTALLATIONS_KEPT = 1024  # installations whose clients are kept


@dataclass(frozen=True, slots=True)
class AppIdentity:
    """Who the App is on GitHub, to tell its own comments from anyone else's."""

    id: int
    slug: str

    @property
    def bot_login(self) -> str:
        return f"{self.slug}[bot]"

    def wrote(self, item: Mapping[str, Any] | None) -> bool:
        """True when a comment, review or review comment was written by this App.

        Issue comments carry ``performed_via_github_app``; review comments and reviews only
        their author, the App's bot user. Anyone else's text (a pasted marker) never counts.
        """
        if not item:
            return False
        via = item.get("performed_via_github_app")
        if isinstance(via, Mapping) and via.get("id") is not None:
            return str(via["id"]) == str(self.id)
        user = item.get("user")
        return (isinstance(user, Mapping) and user.get("type") == "Bot"
                and str(user.get("login", "")).lower() == self.bot_login.lower())


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """A file of a commit's tree, as the Git Trees API lists it (size without fetching it)."""

    path: str
    sha: str  # blob sha
    size: int


@dataclass(frozen=True, slots=True)
class Tree:
    """Every file (blob) of a commit, from one ``GET /git/trees/{sha}?recursive=1``."""

    sha: str
    files: Mapping[str, TreeEntry]
    truncated: bool  # GitHub cut the listing short (over 100,000 entries or 7 MB)


@dataclass(frozen=True, slots=True)
class BlobRef:
    """A file to read: its blob ``sha`` (known from a listing, whose size was judged), and
    where it is (``"<commit>:<path>"``, GitHub's object expression) when it has a path."""

    sha: str
    expression: str | None = None


_BLOB_FIELDS = "... on Blob { text byteSize isBinary isTruncated }"


def blob_query(refs: Sequence[BlobRef]) -> tuple[str, dict[str, str]]:
    """One GraphQL query reading ``refs`` (aliases ``f0``, ``f1``, ...), and its variables.
    Paths travel as variables, never inside the query text."""
    params = ["$owner: String!", "$name: String!"]
    fields = []
    variables: dict[str, str] = {}
    for i, ref in enumerate(refs):
        if ref.expression is not None:
            params.append(f"$e{i}: String!")
            fields.append(f"f{i}: object(expression: $e{i}) {{ {_BLOB_FIELDS} }}")
            variables[f"e{i}"] = ref.expression
        else:
            params.append(f"$o{i}: GitObjectID!")
            fields.append(f"f{i}: object(oid: $o{i}) {{ {_BLOB_FIELDS} }}")
            variables[f"o{i}"] = ref.sha
    query = (f"query({', '.join(params)}) {{ repository(owner: $owner, name: $name) {{ "
             + " ".join(fields) + " } }")
    return query, variables


def blob_bytes(node: Any) -> bytes | None:
    """A GraphQL ``Blob``'s bytes, or None when its text cannot stand for them (truncated,
    binary, missing, or not exactly ``byteSize`` bytes of UTF-8): read it as a REST blob."""
    if not isinstance(node, Mapping) or node.get("isTruncated") or node.get("isBinary"):
        return None
    text = node.get("text")
    if not isinstance(text, str):
        return None
    data = text.encode("utf-8")
    return data if len(data) == node.get("byteSize") else None


class ArchiveTooLarge(Exception):
    """A repository archive larger than the caller allows."""


ResponseHook = Callable[[str, str, int | None, Mapping[str, str]], None]


@dataclass
class RequestCount:
    """The GitHub requests one piece of work made, counted as GitHub counts them against the
    rate limit: not the token exchange, not ``GET /app`` (the App's own JWT bucket), not a
    ``304 Not Modified``. Set with :func:`counting`; every request in that context adds up."""

    requests: int = 0


_counter: contextvars.ContextVar[RequestCount | None] = contextvars.ContextVar(
    "ssot_request_count", default=None)


def counting(count: RequestCount) -> contextvars.Token[RequestCount | None]:
    """Count the requests of the current task (and the tasks it starts) into ``count``."""
    return _counter.set(count)


def stop_counting(token: contextvars.Token[RequestCount | None]) -> None:
    _counter.reset(token)


def _counts(method: str, url: str, status: int | None) -> bool:
    path = url.split("?", 1)[0]
    return status != HTTPStatus.NOT_MODIFIED and not path.endswith(
        ("/app", "/access_tokens"))


# the length of the body of the last answer read in this task (set by ``RetryingAPI._request``;
# gidgethub keeps the answer in the cache right after reading it, with no await between)
_answer_bytes: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "ssot_answer_bytes", default=None)


def _answer_size(value: Any) -> int:
    """Roughly the memory one kept answer holds: the length of the body it was read from
    (measuring it by encoding it again took a 1 MiB listing 80 ms on the event loop), else of
    its JSON."""
    read = _answer_bytes.get()
    if read is not None:
        return read + 256
    try:
        return len(json.dumps(value[2], separators=(",", ":"), default=str)) + 256
    except (TypeError, ValueError, IndexError):
        return 1 << 20


class ConditionalCache(MutableMapping[str, Any]):
    """gidgethub's ``cache=`` for one installation: the last ETag and answer of each GET, so a
    repeated GET asks ``If-None-Match`` and an unchanged answer is a 304 (GitHub does not count
    it against the rate limit). One installation's view of a store shared by all, bounded in
    bytes (least recently used out), whose keys carry the installation: nothing kept for one is
    ever answered to another. Answers addressed by content (blobs, trees by sha) never change:
    they are not kept, they would only take room."""

    _IMMUTABLE = ("/git/blobs/", "/git/trees/")

    def __init__(self, shared: cachetools.LRUCache[tuple[int, str], Any],
                 installation_id: int) -> None:
        self._shared = shared
        self._scope = installation_id

    def __getitem__(self, url: str) -> Any:
        return self._shared[(self._scope, url)]

    def __setitem__(self, url: str, value: Any) -> None:
        if any(part in url for part in self._IMMUTABLE):
            return
        with contextlib.suppress(ValueError):  # larger than the whole store: not kept
            self._shared[(self._scope, url)] = value

    def __delitem__(self, url: str) -> None:
        del self._shared[(self._scope, url)]

    def __iter__(self) -> Iterator[str]:
        return (url for scope, url in list(self._shared) if scope == self._scope)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class RetryingAPI(gidgethub.aiohttp.GitHubAPI):
    """gidgethub's aiohttp client with retries and a per-response hook (metrics, rate limits)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        policy: RetryPolicy | None = None,
        on_response: ResponseHook | None = None,
        cache: MutableMapping[str, Any] | None = None,
        oauth_token: str | None = None,
    ) -> None:
        super().__init__(session, USER_AGENT, base_url=base_url, cache=cache,
                         oauth_token=oauth_token)
        self.policy = policy or RetryPolicy()
        self.on_response = on_response

    async def _make_request(self, *args: Any, **kwargs: Any) -> Any:
        """One request (one page of a listing), under the retry policy: the one place a
        REST call is tried again."""
        method, url = str(args[0]) if args else "", str(args[1]) if len(args) > 1 else ""
        return await retry.call(lambda: super(RetryingAPI, self)._make_request(*args, **kwargs),
                                self.policy, what=f"github {method} {url}", sleep=self.sleep)

    def bearing(self, token: str) -> RetryingAPI:
        """This client with ``token`` as its own credential (gidgethub's ``graphql()`` takes no
        per-call token)."""
        return RetryingAPI(self._session, base_url=self.base_url, policy=self.policy,
                           on_response=self.on_response, oauth_token=token)

    @property
    def graphql_url(self) -> str:
        """``/graphql`` beside the REST root (GitHub Enterprise Server: ``/api/graphql``)."""
        base = self.base_url.rstrip("/")
        return (base[: -len("/v3")] if base.endswith("/api/v3") else base) + "/graphql"

    async def _request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, Mapping[str, str], bytes]:
        count = _counter.get()
        try:
            status, resp_headers, data = await super()._request(method, url, headers, body)
        except (TimeoutError, aiohttp.ClientError):
            if count is not None:
                count.requests += 1
            if self.on_response:
                self.on_response(method, url, None, {})
            raise
        if count is not None and _counts(method, url, status):
            count.requests += 1
        _answer_bytes.set(len(data))
        if self.on_response:
            self.on_response(method, url, status, resp_headers)
        return status, resp_headers, data


@dataclass
class _Token:
    token: str
    expires_at: float  # epoch seconds


class TokenCache:
    """Installation access tokens, minted with the App JWT, cached until shortly before expiry."""

    def __init__(self, api: RetryingAPI, *, app_id: str, private_key: str) -> None:
        self._api = api
        self._app_id = app_id
        # Parsing the PEM costs ~35 ms of CPU; do it once, not on the event loop per token.
        self._private_key: Any = serialization.load_pem_private_key(
            private_key.encode("utf-8"), password=None)
        self._tokens: dict[int, _Token] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def app_jwt(self) -> str:
        # gidgethub signs with PyJWT, which takes the loaded key object as well as PEM text.
        return apps.get_jwt(app_id=self._app_id, private_key=self._private_key)

    async def token(self, installation_id: int) -> str:
        cached = self._tokens.get(installation_id)
        if cached and cached.expires_at - TOKEN_REFRESH_MARGIN > time.time():
            return cached.token
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(installation_id)
            if cached and cached.expires_at - TOKEN_REFRESH_MARGIN > time.time():
                return cached.token
            answer = await self._api.post(
                "/app/installations/{installation_id}/access_tokens",
                {"installation_id": installation_id}, data=b"", jwt=self.app_jwt())
            expires = dt.datetime.fromisoformat(str(answer["expires_at"]).replace("Z", "+00:00"))
            self._tokens[installation_id] = _Token(str(answer["token"]), expires.timestamp())
            return str(answer["token"])

    def invalidate(self, installation_id: int) -> None:
        self._tokens.pop(installation_id, None)


class GitHub:
    """One process-wide entry to GitHub: an HTTP session, the retrying client, the token cache."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_url: str,
        app_id: str,
        private_key: str,
        policy: RetryPolicy | None = None,
        on_response: ResponseHook | None = None,
    ) -> None:
        self.api = RetryingAPI(session, base_url=api_url, policy=policy, on_response=on_response)
        # one client per installation, each with its own conditional-request cache: nothing
        # learnt through one installation's token is ever answered to another's
        self._apis: cachetools.LRUCache[int, RetryingAPI] = cachetools.LRUCache(
            INSTALLATIONS_KEPT)
        self._answers: cachetools.LRUCache[tuple[int, str], Any] = cachetools.LRUCache(
            ETAG_BYTES, getsizeof=_answer_size)
        self.session = session  # for the archive download (a redirect gidgethub won't follow)
        self.tokens = TokenCache(self.api, app_id=app_id, private_key=private_key)
        self.app_id = app_id
        self._identity: AppIdentity | None = None
        self._identity_lock = asyncio.Lock()

    async def identity(self) -> AppIdentity:
        """The App's id and slug (``GET /app`` with the App's JWT, once per process)."""
        async with self._identity_lock:
            if self._identity is None:
                answer = await self.api.getitem("/app", jwt=self.tokens.app_jwt())
                self._identity = AppIdentity(int(answer["id"]), str(answer["slug"]))
            return self._identity

    def api_for(self, installation_id: int) -> RetryingAPI:
        """The client of one installation (its own ETags; the session and policy shared)."""
        api = self._apis.get(installation_id)
        if api is None:
            api = self._apis[installation_id] = RetryingAPI(
                self.session, base_url=self.api.base_url, policy=self.api.policy,
                on_response=self.api.on_response,
                cache=ConditionalCache(self._answers, installation_id))
        return api

    def forget_installation(self, installation_id: int) -> None:
        """Drop what is cached for an installation that is gone (its access token, its
        client and the answers kept for its conditional requests)."""
        self.tokens.invalidate(installation_id)
        api = self._apis.pop(installation_id, None)
        if api is not None and api._cache is not None:
            api._cache.clear()

    def repo(self, installation_id: int, full_name: str) -> Repo:
        owner, _, name = full_name.partition("/")
        return Repo(self, installation_id, owner, name)

    # installations (the catch-up pass, docs/behaviour.md §12) -------------------------------
    async def installations(self) -> list[dict[str, Any]]:
        """Every installation of the App (``GET /app/installations``, App JWT, all pages)."""
        return [item async for item in self.api.getiter(
            "/app/installations{?per_page}", {"per_page": 100}, jwt=self.tokens.app_jwt())]

    async def installation_repositories(self, installation_id: int) -> list[dict[str, Any]]:
        """The repositories an installation can see (``GET /installation/repositories``)."""

        async def collect(token: str) -> list[dict[str, Any]]:
            return [item async for item in self.api.getiter(
                "/installation/repositories{?per_page}", {"per_page": 100}, oauth_token=token,
                iterable_key="repositories")]

        token = await self.tokens.token(installation_id)
        try:
            return await collect(token)
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) != 401:
                raise
            self.tokens.invalidate(installation_id)
            return await collect(await self.tokens.token(installation_id))


def _tree_of(data: dict[str, Any]) -> Tree:
    files = {
        str(item["path"]): TreeEntry(str(item["path"]), str(item["sha"]),
                                     int(item.get("size") or 0))
        for item in data.get("tree", [])
        if item.get("type") == "blob"
    }
    return Tree(str(data["sha"]), files, bool(data.get("truncated")))


class Repo:
    """One repository through one installation. Every method is one GitHub REST call (or a
    paginated series of them); names follow what they do in the domain."""

    def __init__(self, github: GitHub, installation_id: int, owner: str, name: str) -> None:
        self._gh = github
        self.installation_id = installation_id
        self.owner = owner
        self.name = name

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    async def identity(self) -> AppIdentity:
        """The App itself (to trust only markers in comments it wrote)."""
        return await self._gh.identity()

    def _vars(self, **more: Any) -> dict[str, Any]:
        return {"owner": self.owner, "repo": self.name, **more}

    async def _authed(self, call: Callable[[str], Awaitable[T]]) -> T:
        """Run ``call(token)``; a 401 refreshes the installation token once."""
        token = await self._gh.tokens.token(self.installation_id)
        try:
            return await call(token)
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) != 401:
                raise
            self._gh.tokens.invalidate(self.installation_id)
            token = await self._gh.tokens.token(self.installation_id)
            return await call(token)

    @property
    def _api(self) -> RetryingAPI:
        return self._gh.api_for(self.installation_id)

    async def _get(self, url: str, **url_vars: Any) -> Any:
        api = self._api
        return await self._authed(
            lambda t: api.getitem(url, self._vars(**url_vars), oauth_token=t)
        )

    async def _list(self, url: str, **url_vars: Any) -> list[Any]:
        api = self._api

        async def collect(token: str) -> list[Any]:
            return [
                item async for item in api.getiter(url, self._vars(**url_vars), oauth_token=token)
            ]

        return await self._authed(collect)

    async def _post(self, url: str, data: Any, **url_vars: Any) -> Any:
        api = self._api
        return await self._authed(
            lambda t: api.post(url, self._vars(**url_vars), data=data, oauth_token=t)
        )

    async def _patch(self, url: str, data: Any, **url_vars: Any) -> Any:
        api = self._api
        return await self._authed(
            lambda t: api.patch(url, self._vars(**url_vars), data=data, oauth_token=t)
        )

    async def _post_verified(
        self, url: str, data: Any, probe: Callable[[], Awaitable[T | None]], **url_vars: Any
    ) -> T | Any:
        """POST a write that must not be applied twice.

        A 5xx or a network error leaves it unknown whether GitHub applied the write, so instead
        of retrying blindly, ``probe`` looks for it (by its marker) and only a write that is
        not there is sent again.
        """
        api = self._gh.api

        async def once() -> T | Any:
            flag = retry.single_attempt.set(True)  # the client does not repeat it blindly
            try:
                return await self._post(url, data, **url_vars)
            except retry.TRANSIENT:
                found = await probe_later()
                if found is not None:
                    return found
                raise
            finally:
                retry.single_attempt.reset(flag)

        async def probe_later() -> T | None:
            # did GitHub apply it? Looked for after a moment, before it is sent again
            await api.sleep(api.policy.backoff(1))
            return await probe()

        def wait(exc: BaseException, attempt: int, policy: RetryPolicy) -> float | None:
            if isinstance(exc, retry.TRANSIENT):
                return 0.0  # the probe waited already
            return retry.github_wait(exc, attempt, policy)

        return await retry.call(once, api.policy, what=f"github POST {url}", wait=wait,
                                sleep=api.sleep)

    # pull requests ------------------------------------------------------------------------
    async def pull(self, number: int) -> dict[str, Any]:
        result: dict[str, Any] = await self._get("/repos/{owner}/{repo}/pulls/{n}", n=number)
        return result

    async def pull_files(self, number: int) -> list[dict[str, Any]]:
        return await self._list("/repos/{owner}/{repo}/pulls/{n}/files{?per_page}", n=number,
                                per_page=100)

    async def open_pulls(self) -> list[dict[str, Any]]:
        return await self._list("/repos/{owner}/{repo}/pulls{?state,per_page}", state="open",
                                per_page=100)

    async def pulls_updated_since(self, since: dt.datetime, limit: int) -> list[dict[str, Any]]:
        """PRs of any state updated at or after ``since``, newest first, at most ``limit``.

        GitHub's PR list has no ``since``: it is sorted by update, and paging stops at the first
        PR older than ``since`` (or at ``limit``), so a busy repository costs one page."""
        if limit <= 0:
            return []
        api = self._api
        found: list[dict[str, Any]] = []

        async def collect(token: str) -> list[dict[str, Any]]:
            found.clear()
            url = "/repos/{owner}/{repo}/pulls{?state,sort,direction,per_page}"
            url_vars = self._vars(state="all", sort="updated", direction="desc",
                                  per_page=min(100, limit))
            async for item in api.getiter(url, url_vars, oauth_token=token):
                updated = dt.datetime.fromisoformat(
                    str(item.get("updated_at")).replace("Z", "+00:00"))
                if updated < since:
                    break
                found.append(item)
                if len(found) >= limit:
                    break
            return list(found)

        return await self._authed(collect)

    async def app_check_runs(self, ref: str, app_id: int | str) -> list[dict[str, Any]]:
        """The latest check run of each name on ``ref`` made by the App ``app_id`` (one page;
        ``app.id`` is checked here too, whatever the server's filter did)."""
        data = await self._get(
            "/repos/{owner}/{repo}/commits/{ref}/check-runs{?app_id,per_page}", ref=ref,
            app_id=app_id, per_page=100)
        return [run for run in data.get("check_runs", [])
                if str((run.get("app") or {}).get("id")) == str(app_id)]

    async def review_comment(self, comment_id: int) -> dict[str, Any] | None:
        """One inline review comment, or None when it is gone."""
        try:
            result: dict[str, Any] = await self._get(
                "/repos/{owner}/{repo}/pulls/comments/{id}", id=comment_id)
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) == 404:
                return None
            raise
        return result

    async def update_review_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        """Replace an inline review comment's body (the same body twice is harmless)."""
        result: dict[str, Any] = await self._patch(
            "/repos/{owner}/{repo}/pulls/comments/{id}", {"body": body}, id=comment_id)
        return result

    async def review_comments(self, number: int) -> list[dict[str, Any]]:
        return await self._list("/repos/{owner}/{repo}/pulls/{n}/comments{?per_page}",
                                n=number, per_page=100)

    async def update_review(self, number: int, review_id: int, body: str) -> dict[str, Any]:
        """Replace a review's body (the same body twice is harmless)."""
        api = self._gh.api
        result: dict[str, Any] = await self._authed(lambda t: api.put(
            "/repos/{owner}/{repo}/pulls/{n}/reviews/{id}", self._vars(n=number, id=review_id),
            data={"body": body}, oauth_token=t))
        return result

    async def reviews(self, number: int) -> list[dict[str, Any]]:
        return await self._list("/repos/{owner}/{repo}/pulls/{n}/reviews{?per_page}",
                                n=number, per_page=100)

    async def create_review(
        self, number: int, review: dict[str, Any], *, marker: str
    ) -> dict[str, Any]:
        """Create a review whose body holds ``marker`` (unique to this write)."""

        async def probe() -> dict[str, Any] | None:
            return next((r for r in await self.reviews(number)
                         if markers.carries(r.get("body"), marker)), None)

        result: dict[str, Any] = await self._post_verified(
            "/repos/{owner}/{repo}/pulls/{n}/reviews", review, probe, n=number)
        return result

    # contents -----------------------------------------------------------------------------
    async def blob(self, sha: str) -> bytes:
        data = await self._get("/repos/{owner}/{repo}/git/blobs/{sha}", sha=sha)
        if data.get("encoding") == "base64":
            return base64.b64decode(data["content"])
        return str(data["content"]).encode("utf-8")

    async def blobs(self, refs: Sequence[BlobRef], *, concurrency: int = 4
                    ) -> list[bytes]:
        """The contents of ``refs``, read through GraphQL in queries of up to
        :data:`BLOBS_PER_QUERY` (docs/behaviour.md §14); a text GitHub truncated (over
        512,000 bytes), a binary blob, or a query GitHub refused is read as a REST blob."""
        found: list[bytes | None] = [None] * len(refs)
        sem = asyncio.Semaphore(concurrency)

        async def batch(start: int) -> None:
            chunk = refs[start:start + BLOBS_PER_QUERY]
            query, variables = blob_query(chunk)
            async with sem:
                try:
                    data = await self._graphql(query, variables)
                except gidgethub.GraphQLException as exc:
                    log.warning("GraphQL read refused; reading blobs one by one",
                                extra={"error": type(exc).__name__, "files": len(chunk)})
                    return
            repository = data.get("repository") or {}
            for i in range(len(chunk)):
                found[start + i] = blob_bytes(repository.get(f"f{i}"))

        await asyncio.gather(*(batch(i) for i in range(0, len(refs), BLOBS_PER_QUERY)))
        return [data if data is not None else await self.blob(ref.sha)
                for ref, data in zip(refs, found, strict=True)]

    async def _graphql(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /graphql`` with the installation token; 5xx retried under the policy, a 401
        refreshes the token once."""
        api = self._api
        url = api.graphql_url
        for fresh in (False, True):
            if fresh:
                self._gh.tokens.invalidate(self.installation_id)
            client = api.bearing(await self._gh.tokens.token(self.installation_id))
            try:  # under the one retry policy (gidgethub's graphql() is not _make_request)
                data: dict[str, Any] = await retry.call(
                    lambda client=client: client.graphql(  # type: ignore[misc]
                        query, endpoint=url, owner=self.owner, name=self.name, **variables),
                    api.policy, what="github POST /graphql", sleep=api.sleep)
                return data
            except gidgethub.GraphQLAuthorizationFailure:
                if fresh:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def tree(self, ref: str) -> Tree:
        """Every blob of the commit (or branch) ``ref`` with its size: one request."""
        data = await self._get("/repos/{owner}/{repo}/git/trees/{sha}{?recursive}", sha=ref,
                               recursive=1)
        # up to 100,000 entries: ~50 ms of CPU per 10,000, not on the event loop
        return await asyncio.to_thread(_tree_of, data)

    async def _content_entry(self, path: str, ref: str) -> dict[str, Any] | None:
        """The contents API's entry of the file at ``ref``; None when there is no such file."""
        try:
            data = await self._get("/repos/{owner}/{repo}/contents/{+path}{?ref}", path=path,
                                   ref=ref)
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) == 404:
                return None
            raise
        if not isinstance(data, dict) or data.get("type") != "file":
            return None
        return data

    async def _entry_bytes(self, data: dict[str, Any]) -> bytes:
        if data.get("encoding") == "base64" and data.get("content") is not None:
            return base64.b64decode(data["content"])
        # files over 1 MB come without content: fall back to the blob
        return await self.blob(str(data["sha"]))

    async def file_at(self, path: str, ref: str) -> bytes | None:
        """A file's bytes at ``ref``, or None when it does not exist there."""
        data = await self._content_entry(path, ref)
        return None if data is None else await self._entry_bytes(data)

    async def file_entry(self, path: str, ref: str, *, max_bytes: int
                         ) -> tuple[str, bytes | None] | None:
        """(blob sha, bytes) of a file at ``ref``; bytes None when its listed size is over
        ``max_bytes`` (never fetched); None when there is no such file."""
        data = await self._content_entry(path, ref)
        if data is None:
            return None
        sha = str(data["sha"])
        if int(data.get("size") or 0) > max_bytes:
            return sha, None
        return sha, await self._entry_bytes(data)

    # the default branch as a whole (the inventory, docs/behaviour.md §11) ---------------------
    async def repository(self) -> dict[str, Any]:
        """``GET /repos/{owner}/{repo}`` (``default_branch`` and the like)."""
        result: dict[str, Any] = await self._get("/repos/{owner}/{repo}")
        return result

    async def compare(self, base: str, head: str) -> dict[str, Any]:
        """One page of ``GET /compare/{base}...{head}``: the commits (up to 250) and the files
        (up to 300) from their merge base to ``head``."""
        result: dict[str, Any] = await self._get("/repos/{owner}/{repo}/compare/{basehead}",
                                                 basehead=f"{base}...{head}")
        return result

    async def tarball(self, ref: str, sink: Callable[[bytes], Awaitable[bool]], *,
                      max_bytes: int) -> int:
        """Stream the gzip tarball of ``ref`` into ``sink`` piece by piece (it answers False to
        stop the download early); returns the bytes read. GitHub answers 302 to a codeload URL
        (which carries its own token, so it is fetched without ours). Raises
        :class:`ArchiveTooLarge` past ``max_bytes``."""
        api = self._gh.api
        url = gidgethub.sansio.format_url("/repos/{owner}/{repo}/tarball/{ref}",
                                          self._vars(ref=ref), base_url=api.base_url)

        async def locate(token: str) -> str:
            headers = {"Authorization": f"token {token}", "User-Agent": USER_AGENT,
                       "Accept": "application/vnd.github+json"}
            async with self._gh.session.get(url, headers=headers,
                                            allow_redirects=False) as response:
                if api.on_response:
                    api.on_response("GET", url, response.status, response.headers)
                location = response.headers.get("Location")
                if response.status in (301, 302, 307) and location:
                    return location
                error = gidgethub.GitHubBroken if response.status >= 500 else gidgethub.BadRequest
                raise error(HTTPStatus(response.status), f"tarball of {ref}: {response.status}")

        location = await self._authed(locate)
        size = 0
        async with self._gh.session.get(location, headers={"User-Agent": USER_AGENT}) as data:
            if api.on_response:
                api.on_response("GET", location.split("?", 1)[0], data.status, data.headers)
            if data.status != 200:
                raise gidgethub.GitHubBroken(HTTPStatus(data.status),
                                             f"archive download answered {data.status}")
            async for chunk in data.content.iter_chunked(1 << 16):
                size += len(chunk)
                if size > max_bytes:
                    raise ArchiveTooLarge(f"the archive of {ref} is over {max_bytes} bytes")
                if not await sink(chunk):
                    break
        return size

    # check runs ---------------------------------------------------------------------------
    async def create_check_run(self, data: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._post("/repos/{owner}/{repo}/check-runs", data)
        return result

    async def update_check_run(self, check_run_id: int, data: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._patch(
            "/repos/{owner}/{repo}/check-runs/{id}", data, id=check_run_id)
        return result

    async def check_run(self, check_run_id: int) -> dict[str, Any]:
        result: dict[str, Any] = await self._get("/repos/{owner}/{repo}/check-runs/{id}",
                                                 id=check_run_id)
        return result

    # issues and comments ------------------------------------------------------------------
    async def issue(self, number: int) -> dict[str, Any]:
        result: dict[str, Any] = await self._get("/repos/{owner}/{repo}/issues/{n}", n=number)
        return result

    async def update_issue_body(self, number: int, body: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._patch(
            "/repos/{owner}/{repo}/issues/{n}", {"body": body}, n=number)
        return result

    async def issue_comments(self, number: int) -> list[dict[str, Any]]:
        return await self._list("/repos/{owner}/{repo}/issues/{n}/comments{?per_page}",
                                n=number, per_page=100)

    async def create_issue_comment(
        self, number: int, body: str, *, marker: str | None = None
    ) -> dict[str, Any]:
        """Comment on an issue or PR. With ``marker`` (a string only this comment holds) the
        write is verified instead of blindly retried."""
        url = "/repos/{owner}/{repo}/issues/{n}/comments"
        if marker is None:
            result: dict[str, Any] = await self._post(url, {"body": body}, n=number)
            return result

        async def probe() -> dict[str, Any] | None:
            me = await self.identity()
            return next((c for c in await self.issue_comments(number)
                         if markers.carries(c.get("body"), marker) and me.wrote(c)), None)

        verified: dict[str, Any] = await self._post_verified(url, {"body": body}, probe, n=number)
        return verified

    async def comment_once(self, number: int, body: str, *, marker: str) -> bool:
        """Comment unless a comment of the App's own holding ``marker`` is already there
        (``body`` must hold it too; a marker pasted by anyone else counts for nothing). True
        when a comment was written."""
        me = await self.identity()
        if any(markers.carries(c.get("body"), marker) and me.wrote(c)
               for c in await self.issue_comments(number)):
            return False
        await self.create_issue_comment(number, body, marker=marker)
        return True

    async def add_reaction(self, comment_id: int, content: str) -> None:
        await self._post("/repos/{owner}/{repo}/issues/comments/{id}/reactions",
                         {"content": content}, id=comment_id)

    async def permission(self, username: str) -> str | None:
        """The collaborator permission (admin, write, read, none); None: not a collaborator."""
        try:
            data = await self._get(
                "/repos/{owner}/{repo}/collaborators/{username}/permission", username=username)
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) == 404:
                return None
            raise
        value = data.get("permission")
        return str(value) if value is not None else None


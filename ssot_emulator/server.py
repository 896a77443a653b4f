"""The emulated GitHub over HTTP: REST endpoints checked against the OpenAPI description, App
authentication, pagination, rate-limit headers, fault injection, a request log, and signed
webhook deliveries to the bot.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ssot_emulator import archive
from ssot_emulator.diff import hunks, resolve_line
from ssot_emulator.graphql import Bucket, Queries
from ssot_emulator.openapi import RequestValidator
from ssot_emulator.render import REACTIONS, Shapes
from ssot_emulator.state import (
    CheckRun,
    EmulatorState,
    NotFound,
    Repository,
    Review,
    ReviewComment,
    iso,
)

DOCS = "https://docs.github.com/rest"
RATE_DOCS = f"{DOCS}/overview/rate-limits-for-the-rest-api"
JSON_TYPE = "application/json; charset=utf-8"
RATE_LIMIT = 5000
ANON_RATE_LIMIT = 60
MAX_JWT_LIFETIME = 600
CLOCK_SKEW = 60
LARGE_FILE = 1024 * 1024  # the contents API leaves out files over 1 MB
DEFAULT_PERMISSIONS = {"checks": "write", "pull_requests": "write", "issues": "write",
                       "contents": "read", "metadata": "read"}
DEFAULT_EVENTS = ["pull_request", "issue_comment", "check_run", "check_suite", "push"]
_LEVELS = {"read": 1, "write": 2, "admin": 3}


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


@dataclass
class IssuedToken:
    installation_id: int
    expires_at: float
    permissions: dict[str, str]


class HTTPError(Exception):
    def __init__(self, status: int, message: str, *, errors: list[Any] | None = None,
                 headers: dict[str, str] | None = None, doc: str = DOCS) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": doc,
                                     "status": str(status)}
        if errors is not None:
            self.body["errors"] = errors
        self.headers = headers or {}


def _not_found(doc: str = DOCS) -> HTTPError:
    return HTTPError(404, "Not Found", doc=doc)


def _unprocessable(*errors: str) -> HTTPError:
    """422 as the reviews endpoint answers it: ``errors`` is a list of strings."""
    return HTTPError(422, "Unprocessable Entity", errors=list(errors))


def _validation_failed(resource: str, field: str, message: str,
                       code: str = "custom") -> HTTPError:
    """422 as most endpoints answer it: ``errors`` holds objects with a ``code``."""
    return HTTPError(422, "Validation Failed", errors=[
        {"resource": resource, "code": code, "field": field, "message": message}])


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
            raise _not_found() from None

    @property
    def full_name(self) -> str:
        assert self.repo is not None
        return self.repo.full_name


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[["GitHubEmulator", Call], Reply]
# (method, path pattern, handler, auth: "jwt" | "repo", permissions any of, level)
_Route = tuple[str, re.Pattern[str], Handler, str, tuple[str, ...], str]
_ROUTES: list[_Route] = []
_REPO = r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


def route(method: str, pattern: str, *, auth: str = "repo", perms: tuple[str, ...] = (),
          level: str = "read") -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        full = pattern if pattern.startswith("^") else _REPO + pattern + "$"
        _ROUTES.append((method, re.compile(full), handler, auth, perms, level))
        return handler
    return register


class GitHubEmulator(EmulatorState):
    """A stateful GitHub for tests and the offline demo.

    ``spec_path``: GitHub's OpenAPI description; every request is validated against it (None:
    no validation). Problems land in :attr:`openapi_violations` and are answered 422 (404 for
    endpoints the description does not have).
    """

    def __init__(
        self,
        spec_path: str | Path | None = None,
        *,
        app_id: int = 4242,
        app_slug: str = "ssot-bot",
        app_owner: str = "ssot-org",
        token_lifetime: float = 3600.0,
        permissions: dict[str, str] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(**({"clock": clock} if clock else {}))
        self.app_id = app_id
        self.app_slug = app_slug
        self.token_lifetime = token_lifetime
        self.base_url: str | None = None
        self.latency = 0.0
        self.omit_patches_over: int | None = None
        self.tree_limit = 100_000  # GitHub truncates a recursive tree listing past this
        self.openapi_violations: list[str] = []
        # self-check: answers validated against the description's response schemas
        self.validate_responses = False
        self.response_violations: list[str] = []
        self.requests: list[Recorded] = []
        self.codeload_tokens: dict[str, tuple[str, str]] = {}
        self.faults: list[Fault] = []
        self.tokens: dict[str, IssuedToken] = {}
        self._buckets: dict[str, Bucket] = {}
        # True: a request whose bucket is empty is answered 403 (primary rate limit), as GitHub
        # does; off by default so load benchmarks are not cut short
        self.enforce_rate_limits = False
        self.validator = RequestValidator.from_path(spec_path) if spec_path else None
        # POST /graphql: queries validated against GitHub's schema (invalid ones listed there)
        self.graphql = Queries(self)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key_pem: str = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")
        self._public_key = key.public_key()
        self.shapes = Shapes(self, self._api_base, app_id=app_id, slug=app_slug,
                             app_owner=app_owner,
                             permissions=dict(permissions or DEFAULT_PERMISSIONS),
                             events=list(DEFAULT_EVENTS))

    def _api_base(self) -> str:
        return self.base_url or "http://127.0.0.1"

    @property
    def bot_login(self) -> str:
        return self.shapes.bot_login

    # faults ---------------------------------------------------------------------------------
    def inject(
        self,
        method: str,
        path_regex: str,
        *,
        status: int | None = 502,
        times: int = 1,
        retry_after: int | None = None,
        delay: float = 0.0,
        rate_limit: Literal["primary", "secondary"] | None = None,
    ) -> Fault:
        """The next ``times`` requests matching ``method`` (``*`` for any) and ``path_regex``
        (searched in the path) answer ``status`` (403 for rate limits) after ``delay``
        seconds; ``status=None`` only delays them."""
        fault = Fault(method, path_regex, status, times, retry_after, delay, rate_limit)
        self.faults.append(fault)
        return fault

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                fault.used += 1
                return fault
        return None

    def _fault_reply(self, fault: Fault) -> Reply:
        headers: dict[str, str] = {}
        if fault.retry_after is not None and fault.rate_limit != "primary":
            headers["Retry-After"] = str(fault.retry_after)
        if fault.rate_limit == "primary":
            wait = fault.retry_after if fault.retry_after is not None else 1
            headers.update({"x-ratelimit-remaining": "0",
                            "x-ratelimit-reset": str(int(self.clock()) + wait)})
            return Reply(403, {"message": "API rate limit exceeded for installation.",
                               "documentation_url": RATE_DOCS}, headers)
        if fault.rate_limit == "secondary":
            return Reply(429 if fault.status == 429 else 403, {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                           "before you try again.",
                "documentation_url": RATE_DOCS}, headers)
        status = fault.status or 502
        message = "Server Error" if status >= 500 else "Injected fault"
        return Reply(status, {"message": message, "documentation_url": DOCS}, headers)

    # the HTTP application ----------------------------------------------------------------------
    def app(self) -> web.Application:
        application = web.Application(client_max_size=100 * 1024 * 1024)
        application.router.add_route("*", "/{tail:.*}", self._handle)
        return application

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        method, path = request.method.upper(), request.path
        if path.startswith("/_codeload/"):
            return await self._codeload(request)
        query = {k: request.query.getall(k) for k in request.query}
        auth_kind, credential = _credential(request.headers.get("Authorization", ""))
        if self.latency:
            await asyncio.sleep(self.latency)
        fault = self._take_fault(method, path)
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        exhausted = self._rate_exhausted(auth_kind, credential, request)
        if fault is not None and (fault.status is not None or fault.rate_limit):
            reply = self._fault_reply(fault)
        elif exhausted is not None:
            reply = exhausted
        else:
            try:
                reply = self._serve(request, method, path, query, raw, body, auth_kind,
                                    credential)
            except HTTPError as exc:
                reply = Reply(exc.status, exc.body, exc.headers)
        headers = {"Content-Type": JSON_TYPE, "X-GitHub-Media-Type": "github.v3; format=json",
                   "X-GitHub-Request-Id": uuid.uuid4().hex[:20].upper()}
        text = "" if reply.status in (204, 302) else json.dumps(reply.body)
        if method == "GET" and reply.status == 200 and fault is None:
            # GitHub's conditional requests: an unchanged answer is 304, and costs no rate limit
            etag = 'W/"' + hashlib.sha256(text.encode("utf-8")).hexdigest() + '"'
            reply.headers.setdefault("ETag", etag)
            if etag in request.headers.get("If-None-Match", ""):
                reply = Reply(304, None, {"ETag": etag})
                text = ""
        headers.update(self._rate_headers(auth_kind, credential, request,
                                          count=reply.status != 304))
        headers.update(reply.headers)
        self.requests.append(Recorded(
            method, path, {k: v[0] for k, v in query.items()}, body, reply.status, auth_kind,
            {k.lower(): v for k, v in request.headers.items()
             if k.lower() in ("accept", "user-agent", "content-type")},
            self.clock(), fault=fault is not None and fault.status is not None))
        if self.validate_responses and self.validator is not None and fault is None \
                and reply.status != 304 and path != "/graphql":
            self.response_violations.extend(
                f"{method} {path} -> {reply.status}: {problem}"
                for problem in self.validator.response_errors(
                    method, path, query, reply.status, headers, text.encode("utf-8")))
        return web.Response(status=reply.status, text=text, headers=headers)

    def set_rate_limit(self, installation_id: int, remaining: int, *,
                       limit: int = RATE_LIMIT, reset_in: float = 3600.0,
                       resource: str = "core") -> None:
        """Set an installation's bucket (all its tokens share it, as on GitHub); ``resource``:
        ``core`` (REST) or ``graphql`` (GitHub keeps a bucket of its own for each)."""
        key = f"installation:{installation_id}"
        self._buckets[key if resource == "core" else f"{key}:{resource}"] = Bucket(
            limit, remaining, int(self.clock() + reset_in))

    def rate_remaining(self, installation_id: int, resource: str = "core") -> int | None:
        key = f"installation:{installation_id}"
        bucket = self._buckets.get(key if resource == "core" else f"{key}:{resource}")
        return None if bucket is None else bucket.remaining

    def _bucket_key(self, kind: str, credential: str, request: web.Request) -> str:
        issued = self.tokens.get(credential) if kind == "token" else None
        suffix = ":graphql" if request.path == "/graphql" else ""
        if issued is not None:
            return f"installation:{issued.installation_id}{suffix}"
        return (f"{kind}:{credential}" if kind != "none" else f"ip:{request.remote}") + suffix

    def _bucket(self, key: str, kind: str) -> Bucket:
        now = int(self.clock())
        bucket = self._buckets.get(key)
        if bucket is None or bucket.reset <= now:
            limit = ANON_RATE_LIMIT if kind == "none" else RATE_LIMIT
            bucket = Bucket(limit, limit, now + 3600)
            self._buckets[key] = bucket
        return bucket

    def _rate_exhausted(self, kind: str, credential: str, request: web.Request) -> Reply | None:
        """403 as GitHub answers a request past the primary rate limit (when enforced)."""
        if not self.enforce_rate_limits:
            return None
        bucket = self._buckets.get(self._bucket_key(kind, credential, request))
        if bucket is None or bucket.reset <= int(self.clock()) or bucket.remaining > 0:
            return None
        return Reply(403, {"message": "API rate limit exceeded for installation.",
                           "documentation_url": RATE_DOCS},
                     {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(bucket.reset)})

    def _rate_headers(self, kind: str, credential: str, request: web.Request, *,
                      count: bool = True) -> dict[str, str]:
        """The bucket's headers after this request (a 304 is not counted, as on GitHub)."""
        bucket = self._bucket(self._bucket_key(kind, credential, request), kind)
        if count:
            bucket.remaining = max(0, bucket.remaining - 1)
        return {"x-ratelimit-limit": str(bucket.limit),
                "x-ratelimit-remaining": str(bucket.remaining),
                "x-ratelimit-used": str(bucket.limit - bucket.remaining),
                "x-ratelimit-reset": str(bucket.reset),
                "x-ratelimit-resource": "graphql" if request.path == "/graphql" else "core"}

    def _serve(self, request: web.Request, method: str, path: str,
               query: dict[str, list[str]], raw: bytes, body: Any, auth_kind: str,
               credential: str) -> Reply:
        if path == "/graphql" and method == "POST":
            return self._graphql(request, body, auth_kind, credential)
        found = _match(method, path)
        if found is None:
            self.openapi_violations.append(
                f"{method} {path}: endpoint not in the OpenAPI description")
            raise _not_found()
        spec_route, params = found
        _, _, handler, auth, perms, level = spec_route
        problems: list[str] = []
        if self.validator is not None:
            problems = self.validator.errors(
                method, path, query, dict(request.headers), raw or None,
                request.headers.get("Content-Type", ""))
            self.openapi_violations.extend(f"{method} {path}: {p}" for p in problems)
        call = Call(method, path, params, query, body, f"{request.scheme}://{request.host}")
        if auth == "jwt":
            self._check_jwt(auth_kind, credential)
        elif auth == "installation":
            issued = self.tokens.get(credential) if auth_kind == "token" else None
            if issued is None or issued.expires_at <= self.clock():
                raise HTTPError(401, "Bad credentials")
            call.installation_id = issued.installation_id
            call.actor = self.bot_login
        else:
            self._check_token(call, auth_kind, credential, perms, level)
        if problems:
            raise HTTPError(422, "Invalid request.\n\n" + "\n".join(problems), errors=[
                {"resource": "Request", "code": "custom", "field": "", "message": problem}
                for problem in problems])
        if raw and body is None:
            raise HTTPError(400, "Problems parsing JSON")
        return handler(self, call)

    def _graphql(self, request: web.Request, body: Any, auth_kind: str,
                 credential: str) -> Reply:
        """``POST /graphql`` (:mod:`ssot_emulator.graphql`): installation tokens only."""
        issued = self.tokens.get(credential) if auth_kind == "token" else None
        if issued is None or issued.expires_at <= self.clock():
            raise HTTPError(401, "Bad credentials", doc="https://docs.github.com/graphql")
        key = self._bucket_key(auth_kind, credential, request)
        return Reply(200, self.graphql.answer(
            body, issued.installation_id, lambda: self._bucket(key, auth_kind)))

    # authentication ---------------------------------------------------------------------------
    def _check_jwt(self, kind: str, credential: str) -> None:
        bad = HTTPError(401, "A JSON web token could not be decoded")
        if kind != "jwt":
            raise bad
        try:
            claims = jwt.decode(
                credential, self._public_key, algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                         "require": ["iat", "exp", "iss"]})
        except jwt.PyJWTError:
            raise bad from None
        now = self.clock()
        try:
            iat, exp = float(claims["iat"]), float(claims["exp"])
        except (TypeError, ValueError):
            raise bad from None
        if str(claims["iss"]) != str(self.app_id):
            raise HTTPError(401, "'Issuer' claim ('iss') must be an Integer")
        if exp - iat > MAX_JWT_LIFETIME or exp < now - CLOCK_SKEW or iat > now + CLOCK_SKEW:
            raise HTTPError(401, "'Expiration time' claim ('exp') is too far in the future"
                            if exp - iat > MAX_JWT_LIFETIME else
                            "A JSON web token could not be decoded")

    def _check_token(self, call: Call, kind: str, credential: str, perms: tuple[str, ...],
                     level: str) -> None:
        bad = HTTPError(401, "Bad credentials")
        issued = self.tokens.get(credential) if kind == "token" else None
        if issued is None or issued.expires_at <= self.clock():
            raise bad
        try:
            repo = self.repo(f"{call.params['owner']}/{call.params['repo']}")
        except NotFound:
            raise _not_found() from None
        if repo.installation_id != issued.installation_id:
            raise bad
        if perms and not any(_LEVELS.get(issued.permissions.get(p, ""), 0) >= _LEVELS[level]
                             for p in perms):
            raise HTTPError(403, "Resource not accessible by integration")
        call.repo = repo
        call.actor = self.bot_login
        call.installation_id = issued.installation_id

    # pagination -------------------------------------------------------------------------------
    def _page(self, call: Call, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        try:
            per_page = min(100, max(1, int(call.arg("per_page", "30") or "30")))
            page = max(1, int(call.arg("page", "1") or "1"))
        except ValueError:
            per_page, page = 30, 1
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        if last == 1:
            return chunk, {}
        base = (self.base_url or call.origin).rstrip("/") + call.path

        def url(number: int) -> str:
            query = {k: v[0] for k, v in call.query.items()}
            query["page"] = str(number)
            return f"{base}?{urlencode(query)}"

        links: list[str] = []
        if page > 1:
            links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
        if page < last:
            links.append(f'<{url(page + 1)}>; rel="next"')
            links.append(f'<{url(last)}>; rel="last"')
        if page > 1:
            links.append(f'<{url(1)}>; rel="first"')
        return chunk, {"Link": ", ".join(links)}

    def _list(self, call: Call, items: list[Any]) -> Reply:
        chunk, headers = self._page(call, items)
        return Reply(200, chunk, headers)

    # webhooks ---------------------------------------------------------------------------------
    def _envelope(self, repo: Repository, action: str | None, sender: str,
                  sender_type: str | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        if action is not None:
            payload["action"] = action
        payload["repository"] = self.shapes.repo(repo)
        payload["sender"] = self.shapes.actor(sender, sender_type)
        payload["installation"] = self.shapes.installation(repo.installation_id)
        return payload

    def payload_pull_request(self, full_name: str, number: int, action: str,
                             **extra: Any) -> dict[str, Any]:
        """A ``pull_request`` webhook payload for the PR as it is now. ``sender=`` overrides
        the sender (default: the merger for a merge, else the author); other keywords are
        added at the top level (``before=``/``after=`` for ``synchronize``)."""
        repo = self.repo(full_name)
        pull = self.pull(full_name, number)
        default_sender = pull.merged_by if (action == "closed" and pull.merged_by) \
            else self.issue(full_name, number).user
        sender = str(extra.pop("sender", default_sender))
        payload = self._envelope(repo, action, sender)
        body = {"action": action, "number": number,
                "pull_request": self.shapes.pull(repo, number)}
        body.update(payload)
        body.update(extra)
        return body

    def payload_issue_comment(self, full_name: str, number: int, comment_id: int,
                              action: str = "created") -> dict[str, Any]:
        repo = self.repo(full_name)
        comment = self.comment(full_name, comment_id)
        if comment.issue_number != number:
            raise NotFound(f"comment {comment_id} is not on #{number}")
        body = {"action": action,
                "issue": self.shapes.issue(repo, self.issue(full_name, number)),
                "comment": self.shapes.comment(repo, comment)}
        body.update(self._envelope(repo, None, comment.user, comment.user_type))
        return body

    def payload_issues(self, full_name: str, number: int, action: str = "edited",
                       sender: str | None = None) -> dict[str, Any]:
        repo = self.repo(full_name)
        issue = self.issue(full_name, number)
        body = {"action": action, "issue": self.shapes.issue(repo, issue)}
        body.update(self._envelope(repo, None, sender or issue.user))
        return body

    def payload_check_run(self, full_name: str, check_run_id: int, action: str,
                          requested_action_identifier: str | None = None,
                          sender: str = "octocat") -> dict[str, Any]:
        repo = self.repo(full_name)
        run = self.check_run(full_name, check_run_id)
        check_run = self.shapes.check_run(repo, run)
        check_run["check_suite"] = self.shapes.check_suite(repo, run.head_sha)
        body: dict[str, Any] = {"action": action, "check_run": check_run}
        if requested_action_identifier is not None:
            body["requested_action"] = {"identifier": requested_action_identifier}
        body.update(self._envelope(repo, None, sender))
        return body

    def payload_check_suite(self, full_name: str, head_sha: str, action: str = "rerequested",
                            sender: str = "octocat") -> dict[str, Any]:
        repo = self.repo(full_name)
        body = {"action": action, "check_suite": self.shapes.check_suite(repo, head_sha)}
        body.update(self._envelope(repo, None, sender))
        return body

    @staticmethod
    def signature(secret: str, body: bytes) -> str:
        digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        return f"sha256={digest}"

    async def deliver(self, url: str, secret: str, event: str, payload: dict[str, Any], *,
                      delivery_id: str | None = None) -> int:
        """POST a webhook the way GitHub does; returns the answer's status."""
        body = json.dumps(payload).encode("utf-8")
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "1",
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": str(self.app_id),
            "X-Hub-Signature-256": self.signature(secret, body),
            "User-Agent": "GitHub-Hookshot/emulator",
            "Content-Type": "application/json",
        }
        async with aiohttp.ClientSession() as session, \
                session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    # handlers: the app ------------------------------------------------------------------------
    @route("GET", r"^/app$", auth="jwt")
    def _get_app(self, call: Call) -> Reply:
        return Reply(200, self.shapes.app())

    @route("POST", r"^/app/installations/(?P<installation_id>[^/]+)/access_tokens$", auth="jwt")
    def _access_token(self, call: Call) -> Reply:
        installation_id = call.number("installation_id")
        if installation_id not in self.installations:
            raise _not_found()
        granted = dict(self.shapes.permissions)
        wanted = (call.body or {}).get("permissions") if isinstance(call.body, dict) else None
        if wanted:
            for name, value in wanted.items():
                if _LEVELS.get(granted.get(name, ""), 0) < _LEVELS.get(value, 9):
                    raise _validation_failed(
                        "Installation", "permissions",
                        f"The permissions requested are not granted to this installation: "
                        f"{name}")
            granted = dict(wanted)
        token = "ghs_" + secrets.token_hex(18)
        expires = self.clock() + self.token_lifetime
        self.tokens[token] = IssuedToken(installation_id, expires, granted)
        return Reply(201, {"token": token, "expires_at": iso(expires), "permissions": granted,
                           "repository_selection": "all"})

    def issue_token(self, installation_id: int) -> str:
        """A valid installation token without the JWT exchange (for tests that only need one)."""
        token = "ghs_" + secrets.token_hex(18)
        self.tokens[token] = IssuedToken(installation_id, self.clock() + self.token_lifetime,
                                         dict(self.shapes.permissions))
        return token

    @route("GET", r"^/app/installations$", auth="jwt")
    def _list_installations(self, call: Call) -> Reply:
        return self._list(call, [self.shapes.installation_full(i)
                                 for i in sorted(self.installations)])

    @route("GET", r"^/installation/repositories$", auth="installation")
    def _installation_repositories(self, call: Call) -> Reply:
        repos = [r for r in self.repos() if r.installation_id == call.installation_id]
        chunk, headers = self._page(call, repos)
        return Reply(200, {"total_count": len(repos), "repository_selection": "all",
                           "repositories": [self.shapes.repo(r) for r in chunk]}, headers)

    # handlers: contents -----------------------------------------------------------------------
    @route("GET", r"/contents/(?P<path>.*)", perms=("contents",))
    def _contents(self, call: Call) -> Reply:
        doc = f"{DOCS}/repos/contents#get-repository-content"
        try:
            commit = self.resolve_ref(call.full_name, call.arg("ref"))
        except NotFound as exc:
            raise HTTPError(404, str(exc), doc=doc) from None
        path = call.params["path"].strip("/")
        repo = call.repo
        assert repo is not None
        ref = call.arg("ref") or repo.default_branch
        sha = commit.tree.get(path)
        if sha is not None:
            data = self.blobs[sha]
            return Reply(200, self._content_entry(repo, path, sha, len(data), "file", ref, data))
        prefix = f"{path}/" if path else ""
        children: dict[str, tuple[str, str, int]] = {}
        for item, item_sha in commit.tree.items():
            if not item.startswith(prefix):
                continue
            name, _, rest = item[len(prefix):].partition("/")
            if rest:
                children.setdefault(name, ("dir", item_sha, 0))
            else:
                children[name] = ("file", item_sha, len(self.blobs[item_sha]))
        if not children:
            raise HTTPError(404, "Not Found", doc=doc)
        return Reply(200, [self._content_entry(repo, prefix + name, s, size, kind, ref, None)
                           for name, (kind, s, size) in sorted(children.items())])

    def _content_entry(self, repo: Repository, path: str, sha: str, size: int, kind: str,
                       ref: str, data: bytes | None) -> dict[str, Any]:
        api = f"{self.shapes.api()}/repos/{repo.full_name}"
        html = f"{self.shapes.html()}/{repo.full_name}/blob/{ref}/{path}"
        url = f"{api}/contents/{path}?ref={ref}"
        git = f"{api}/git/{'blobs' if kind == 'file' else 'trees'}/{sha}"
        entry: dict[str, Any] = {
            "type": kind, "size": size, "name": path.rsplit("/", 1)[-1], "path": path,
            "sha": sha, "url": url, "git_url": git, "html_url": html,
            "download_url": f"{self.shapes.html()}/{repo.full_name}/raw/{ref}/{path}"
                            if kind == "file" else None,
            "_links": {"self": url, "git": git, "html": html},
        }
        if data is not None:
            if size > LARGE_FILE:
                entry.update({"encoding": "none", "content": ""})
            else:
                entry.update({"encoding": "base64", "content": _b64_lines(data)})
        return entry

    @route("GET", r"/git/blobs/(?P<sha>[^/]+)", perms=("contents",))
    def _blob(self, call: Call) -> Reply:
        sha = call.params["sha"]
        if sha not in self.blobs or not self.repo_has_blob(call.full_name, sha):
            raise _not_found(f"{DOCS}/git/blobs#get-a-blob")
        data = self.blobs[sha]
        return Reply(200, {
            "sha": sha, "node_id": base64.b64encode(f"05:Blob{sha}".encode()).decode(),
            "size": len(data), "url": f"{self.shapes.api()}/repos/{call.full_name}/git/blobs/{sha}",
            "content": _b64_lines(data), "encoding": "base64"})

    @route("GET", r"/git/trees/(?P<sha>[^/]+)", perms=("contents",))
    def _tree(self, call: Call) -> Reply:
        """A commit's tree (by commit sha or branch); ``recursive`` lists every level."""
        try:
            commit = self.resolve_ref(call.full_name, call.params["sha"])
        except NotFound:
            raise _not_found(f"{DOCS}/git/trees#get-a-tree") from None
        api = f"{self.shapes.api()}/repos/{call.full_name}/git"
        recursive = call.arg("recursive") not in (None, "", "0", "false")
        entries: dict[str, dict[str, Any]] = {}
        for path, blob in sorted(commit.tree.items()):
            parts = path.split("/")
            if not recursive and len(parts) > 1:
                entries.setdefault(parts[0], self._tree_entry(api, parts[0], None))
                continue
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                entries.setdefault(folder, self._tree_entry(api, folder, None))
            entries[path] = self._tree_entry(api, path, blob)
        listed = [entries[key] for key in sorted(entries)]
        truncated = len(listed) > self.tree_limit
        return Reply(200, {"sha": commit.sha, "url": f"{api}/trees/{commit.sha}",
                           "tree": listed[: self.tree_limit], "truncated": truncated})

    def _tree_entry(self, api: str, path: str, blob: str | None) -> dict[str, Any]:
        if blob is None:  # a folder: its sha is derived from its path (stable, not git's)
            sha = hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()
            return {"path": path, "mode": "040000", "type": "tree", "sha": sha,
                    "url": f"{api}/trees/{sha}"}
        return {"path": path, "mode": "100644", "type": "blob", "sha": blob,
                "size": len(self.blobs[blob]), "url": f"{api}/blobs/{blob}"}

    # handlers: collaborators ------------------------------------------------------------------
    @route("GET", r"/collaborators/(?P<username>[^/]+)/permission", perms=("metadata",))
    def _permission(self, call: Call) -> Reply:
        username = call.params["username"]
        permission = self.permission(call.full_name, username)
        # GitHub folds the finer roles into the legacy field: maintain -> write, triage -> read
        legacy = {"maintain": "write", "triage": "read"}.get(permission, permission)
        user = self.shapes.user(username)
        user["permissions"] = {
            "admin": permission == "admin",
            "maintain": permission in ("admin", "maintain"),
            "push": permission in ("admin", "maintain", "write"),
            "triage": permission in ("admin", "maintain", "write", "triage"),
            "pull": permission != "none"}
        user["role_name"] = permission
        return Reply(200, {"permission": legacy, "role_name": permission, "user": user})

    # handlers: issues and comments ------------------------------------------------------------
    def _issue_or_404(self, call: Call, name: str = "issue_number") -> int:
        number = call.number(name)
        try:
            self.issue(call.full_name, number)
        except NotFound:
            raise _not_found() from None
        return number

    @route("GET", r"/issues/(?P<issue_number>[^/]+)", perms=("issues", "pull_requests"))
    def _get_issue(self, call: Call) -> Reply:
        number = self._issue_or_404(call)
        assert call.repo is not None
        return Reply(200, self.shapes.issue(call.repo, self.issue(call.full_name, number)))

    @route("PATCH", r"/issues/(?P<issue_number>[^/]+)", perms=("issues", "pull_requests"),
           level="write")
    def _patch_issue(self, call: Call) -> Reply:
        number = self._issue_or_404(call)
        assert call.repo is not None
        data = call.body if isinstance(call.body, dict) else {}
        changes = {k: data[k] for k in ("title", "body", "state", "state_reason") if k in data}
        if "title" in changes and changes["title"] is not None:
            changes["title"] = str(changes["title"])
        if changes.get("title", "x") is None:
            del changes["title"]
        issue = self.update_issue(call.full_name, number, **changes)
        if self.issue(call.full_name, number).is_pull_request and "state" in changes:
            pull = self.pull(call.full_name, number)
            if changes["state"] == "closed" and pull.frozen_head_sha is None:
                pull.frozen_head_sha = self.repo(call.full_name).branches[pull.head_ref]
            elif changes["state"] == "open" and not pull.merged:
                pull.frozen_head_sha = None
        return Reply(200, self.shapes.issue(call.repo, issue))

    @route("GET", r"/issues/(?P<issue_number>[^/]+)/comments", perms=("issues", "pull_requests"))
    def _list_issue_comments(self, call: Call) -> Reply:
        number = self._issue_or_404(call)
        assert call.repo is not None
        comments = self.issue(call.full_name, number).comments
        since = call.arg("since")
        if since:
            comments = [c for c in comments if iso(c.updated_at) >= since.replace("+00:00", "Z")]
        return self._list(call, [self.shapes.comment(call.repo, c) for c in comments])

    @route("POST", r"/issues/(?P<issue_number>[^/]+)/comments",
           perms=("issues", "pull_requests"), level="write")
    def _create_issue_comment(self, call: Call) -> Reply:
        number = self._issue_or_404(call)
        assert call.repo is not None
        body = call.body.get("body") if isinstance(call.body, dict) else None
        if not isinstance(body, str) or not body.strip():
            raise _validation_failed("IssueComment", "body", "Body cannot be blank")
        comment_id = self.add_issue_comment(call.full_name, number, body, call.actor, "Bot",
                                            via_app=True)
        self.issue(call.full_name, number).updated_at = self.clock()
        return Reply(201, self.shapes.comment(call.repo, self.comment(call.full_name,
                                                                      comment_id)))

    def _comment_or_404(self, call: Call) -> int:
        comment_id = call.number("comment_id")
        try:
            self.comment(call.full_name, comment_id)
        except NotFound:
            raise _not_found() from None
        return comment_id

    @route("GET", r"/issues/comments/(?P<comment_id>[^/]+)", perms=("issues", "pull_requests"))
    def _get_comment(self, call: Call) -> Reply:
        comment_id = self._comment_or_404(call)
        assert call.repo is not None
        return Reply(200, self.shapes.comment(call.repo, self.comment(call.full_name, comment_id)))

    @route("PATCH", r"/issues/comments/(?P<comment_id>[^/]+)",
           perms=("issues", "pull_requests"), level="write")
    def _patch_comment(self, call: Call) -> Reply:
        comment = self.comment(call.full_name, self._comment_or_404(call))
        assert call.repo is not None
        body = call.body.get("body") if isinstance(call.body, dict) else None
        if not isinstance(body, str):
            raise _validation_failed("IssueComment", "body", "Body cannot be blank")
        comment.body = body
        comment.updated_at = self.clock()
        return Reply(200, self.shapes.comment(call.repo, comment))

    @route("POST", r"/issues/comments/(?P<comment_id>[^/]+)/reactions",
           perms=("issues", "pull_requests"), level="write")
    def _react(self, call: Call) -> Reply:
        comment_id = self._comment_or_404(call)
        content = call.body.get("content") if isinstance(call.body, dict) else None
        if content not in REACTIONS:
            raise _validation_failed("Reaction", "content", "content is not a valid reaction",
                                     "invalid")
        reaction, new = self.add_reaction(call.full_name, comment_id, call.actor, str(content))
        return Reply(201 if new else 200, self.shapes.reaction(reaction))

    # handlers: pull requests ------------------------------------------------------------------
    def _pull_or_404(self, call: Call) -> int:
        number = call.number("pull_number")
        try:
            self.pull(call.full_name, number)
        except NotFound:
            raise _not_found() from None
        return number

    @route("GET", r"/pulls", perms=("pull_requests",))
    def _list_pulls(self, call: Call) -> Reply:
        repo = call.repo
        assert repo is not None
        state = call.arg("state", "open")
        head, base = call.arg("head"), call.arg("base")
        numbers = []
        for pull in self.pulls(repo.full_name):
            issue = self.issue(repo.full_name, pull.number)
            if state != "all" and issue.state != state:
                continue
            if head and head not in (pull.head_ref, f"{repo.owner}:{pull.head_ref}"):
                continue
            if base and base != pull.base_ref:
                continue
            numbers.append(pull.number)
        # GitHub: sort created (default) | updated | popularity | long-running; direction
        # defaults to desc for created, else asc
        sort = call.arg("sort", "created")
        direction = call.arg("direction", "desc" if sort == "created" else "asc")
        if sort == "updated":
            numbers.sort(key=lambda n: (self.issue(repo.full_name, n).updated_at, n),
                         reverse=direction != "asc")
        else:
            numbers.sort(reverse=direction != "asc")
        return self._list(call, [self.shapes.pull(repo, n, full=False) for n in numbers])

    @route("GET", r"/pulls/(?P<pull_number>[^/]+)", perms=("pull_requests",))
    def _get_pull(self, call: Call) -> Reply:
        number = self._pull_or_404(call)
        assert call.repo is not None
        return Reply(200, self.shapes.pull(call.repo, number))

    def _files(self, full_name: str, number: int, head: str | None = None) -> dict[str, Any]:
        """filename -> the file's entry, with patches over :attr:`omit_patches_over` lines left
        out as GitHub does for huge diffs."""
        result: dict[str, Any] = {}
        for item in self.pull_files(full_name, number, head=head):
            if (self.omit_patches_over is not None and item.patch is not None
                    and item.patch.count("\n") + 1 > self.omit_patches_over):
                item.patch = None
            result[item.filename] = item
        return result

    @route("GET", r"/pulls/(?P<pull_number>[^/]+)/files", perms=("pull_requests",))
    def _pull_files(self, call: Call) -> Reply:
        number = self._pull_or_404(call)
        repo = call.repo
        assert repo is not None
        head = self.head_sha(repo.full_name, number)
        files = self._files(repo.full_name, number).values()
        return self._list(call, [self.shapes.pull_file(repo, head, f) for f in files])

    def _diff_hunk(self, patch: str | None, line: int | None,
                   side: str | None) -> tuple[str, int]:
        """GitHub's ``diff_hunk`` (the hunk up to the commented line) and ``position`` (the
        line's index in the patch, the first hunk header being 0)."""
        if not patch:
            return "", 1
        lines = patch.split("\n")
        starts = [i for i, text in enumerate(lines) if text.startswith("@@")] + [len(lines)]
        for index, hunk in enumerate(hunks(patch)):
            shown = hunk.left if side == "LEFT" else hunk.right
            if line not in shown:
                continue
            start = starts[index]
            match = re.match(r"^@@ -(\d+)(?:,\d+)? \+(\d+)", lines[start])
            old_no, new_no = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
            for offset, text in enumerate(lines[start + 1:starts[index + 1]], start + 1):
                if text.startswith("\\"):
                    continue
                here = old_no if side == "LEFT" else new_no
                if here == line and not text.startswith("-" if side != "LEFT" else "+"):
                    return "\n".join(lines[start:offset + 1]), offset
                if not text.startswith("+"):
                    old_no += 1
                if not text.startswith("-"):
                    new_no += 1
        return lines[0], 1

    def _place(self, call: Call, number: int, commit_id: str, raw: dict[str, Any],
               review_id: int | None) -> ReviewComment:
        """A review comment if GitHub could place it on the diff, else 422 (in the shape of
        the reviews endpoint, or of the single-comment endpoint when ``review_id`` is None)."""
        try:
            return self._placed(call, number, commit_id, raw, review_id)
        except HTTPError as exc:
            if review_id is not None:
                raise
            raise _validation_failed(
                "PullRequestReviewComment", "pull_request_review_thread.line",
                "pull_request_review_thread.line must be part of the diff") from exc

    def _placed(self, call: Call, number: int, commit_id: str, raw: dict[str, Any],
                review_id: int | None) -> ReviewComment:
        files = self._files(call.full_name, number, head=commit_id)
        path = raw.get("path")
        item = files.get(str(path)) if path is not None else None
        line = raw.get("line")
        side = str(raw.get("side") or "RIGHT")
        start_line = raw.get("start_line")
        start_side = raw.get("start_side")
        subject_type = str(raw.get("subject_type") or "line")
        if "position" in raw and line is None and item is not None and item.patch:
            position = raw["position"]
            if not isinstance(position, int) or not 1 <= position < len(item.patch.split("\n")):
                raise _unprocessable("Line could not be resolved")
        elif subject_type == "file":
            if item is None:
                raise _unprocessable("Path could not be resolved")
            line = side = None  # type: ignore[assignment]
        elif item is None or not resolve_line(
                item.patch, line if isinstance(line, int) else None, side,
                start_line if isinstance(start_line, int) else None,
                str(start_side) if start_side else None):
            raise _unprocessable("Line could not be resolved")
        return ReviewComment(
            self.next_id(), number, review_id, commit_id, str(path),
            line if isinstance(line, int) else None, side,
            start_line if isinstance(start_line, int) else None,
            str(start_side or side) if start_line is not None else None,
            str(raw.get("body") or ""), call.actor, "Bot", self.clock(),
            subject_type=subject_type)

    def _commit_of(self, call: Call, number: int, commit_id: Any) -> str:
        head = self.head_sha(call.full_name, number)
        if commit_id in (None, ""):
            return head
        repo = call.repo
        assert repo is not None
        if str(commit_id) not in repo.commits:
            raise _unprocessable("Commit could not be resolved")  # not a commit of this repo
        return str(commit_id)

    def _render_comment(self, call: Call, comment: ReviewComment) -> dict[str, Any]:
        assert call.repo is not None
        files = self._files(call.full_name, comment.pull_number, head=comment.commit_id)
        item = files.get(comment.path)
        hunk, position = self._diff_hunk(item.patch if item else None, comment.line,
                                         comment.side)
        return self.shapes.review_comment(call.repo, comment, hunk, position)

    def _review_comment_or_404(self, call: Call) -> ReviewComment:
        try:
            return self.review_comment(call.full_name, call.number("comment_id"))
        except NotFound:
            raise _not_found() from None

    @route("GET", r"/pulls/comments/(?P<comment_id>[^/]+)", perms=("pull_requests",))
    def _get_review_comment(self, call: Call) -> Reply:
        return Reply(200, self._render_comment(call, self._review_comment_or_404(call)))

    @route("PATCH", r"/pulls/comments/(?P<comment_id>[^/]+)", perms=("pull_requests",),
           level="write")
    def _patch_review_comment(self, call: Call) -> Reply:
        comment = self._review_comment_or_404(call)
        body = call.body.get("body") if isinstance(call.body, dict) else None
        if not isinstance(body, str) or not body:
            raise _validation_failed("PullRequestReviewComment", "body", "missing_field",
                                     "missing_field")
        if comment.user != call.actor:  # an App edits only what it wrote
            raise HTTPError(403, "Resource not accessible by integration")
        comment.body = body
        comment.updated_at = self.clock()
        return Reply(200, self._render_comment(call, comment))

    @route("GET", r"/pulls/(?P<pull_number>[^/]+)/comments", perms=("pull_requests",))
    def _list_review_comments(self, call: Call) -> Reply:
        number = self._pull_or_404(call)
        comments = self.pull(call.full_name, number).review_comments
        since = call.arg("since")
        if since:
            comments = [c for c in comments if iso(c.created_at) >= since]
        return self._list(call, [self._render_comment(call, c) for c in comments])

    @route("POST", r"/pulls/(?P<pull_number>[^/]+)/comments", perms=("pull_requests",),
           level="write")
    def _create_review_comment(self, call: Call) -> Reply:
        number = self._pull_or_404(call)
        data = call.body if isinstance(call.body, dict) else {}
        pull = self.pull(call.full_name, number)
        reply_to = data.get("in_reply_to")
        if reply_to is not None:
            parent = next((c for c in pull.review_comments if c.id == reply_to), None)
            if parent is None:
                raise _not_found()
            comment = ReviewComment(self.next_id(), number, parent.review_id, parent.commit_id,
                                    parent.path, parent.line, parent.side, parent.start_line,
                                    parent.start_side, str(data.get("body") or ""),
                                    call.actor, "Bot", self.clock(), in_reply_to_id=parent.id)
        else:
            if not data.get("body"):
                raise _validation_failed("PullRequestReviewComment", "body", "missing_field",
                                         "missing_field")
            commit_id = self._commit_of(call, number, data.get("commit_id"))
            comment = self._place(call, number, commit_id, data, None)
            review = Review(self.next_id(), number, "COMMENT", "", commit_id, call.actor,
                            self.clock(), [comment])
            comment.review_id = review.id
            pull.reviews.append(review)
        pull.review_comments.append(comment)
        return Reply(201, self._render_comment(call, comment))

    @route("GET", r"/pulls/(?P<pull_number>[^/]+)/reviews", perms=("pull_requests",))
    def _list_reviews(self, call: Call) -> Reply:
        number = self._pull_or_404(call)
        assert call.repo is not None
        return self._list(call, [self.shapes.review(call.repo, r)
                                 for r in self.pull(call.full_name, number).reviews])

    @route("POST", r"/pulls/(?P<pull_number>[^/]+)/reviews", perms=("pull_requests",),
           level="write")
    def _create_review(self, call: Call) -> Reply:
        number = self._pull_or_404(call)
        assert call.repo is not None
        data = call.body if isinstance(call.body, dict) else {}
        event = data.get("event")
        body = str(data.get("body") or "")
        raw_comments = data.get("comments") or []
        commit_id = self._commit_of(call, number, data.get("commit_id"))
        if event in ("REQUEST_CHANGES", "COMMENT") and not body and not raw_comments:
            raise _unprocessable(f"Review body is required for {event}")
        if event == "REQUEST_CHANGES" and not body:
            raise _unprocessable("Review body is required for REQUEST_CHANGES")
        review = Review(self.next_id(), number, event, body, commit_id, call.actor,
                        self.clock())
        # all or nothing: one comment GitHub cannot place rejects the whole review
        review.comments = [self._place(call, number, commit_id, raw, review.id)
                           for raw in raw_comments]
        pull = self.pull(call.full_name, number)
        pull.reviews.append(review)
        pull.review_comments.extend(review.comments)
        return Reply(200, self.shapes.review(call.repo, review))

    @route("PUT", r"/pulls/(?P<pull_number>[^/]+)/reviews/(?P<review_id>[^/]+)",
           perms=("pull_requests",), level="write")
    def _update_review(self, call: Call) -> Reply:
        number = self._pull_or_404(call)
        assert call.repo is not None
        body = call.body.get("body") if isinstance(call.body, dict) else None
        if not isinstance(body, str):
            raise _validation_failed("PullRequestReview", "body", "missing_field",
                                     "missing_field")
        review_id = call.number("review_id")
        review = next((r for r in self.pull(call.full_name, number).reviews
                       if r.id == review_id), None)
        if review is None:
            raise _not_found()
        if review.user != call.actor:  # an App edits only what it wrote
            raise HTTPError(403, "Resource not accessible by integration")
        review.body = body
        return Reply(200, self.shapes.review(call.repo, review))

    # handlers: check runs ---------------------------------------------------------------------
    def _apply_check_update(self, run: CheckRun, data: dict[str, Any], *,
                            creating: bool) -> None:
        output = data.get("output")
        if isinstance(output, dict):
            annotations = output.get("annotations") or []
            if len(annotations) > 50:
                raise _unprocessable("Only 50 annotations are allowed per request")
            for key in ("title", "summary", "text"):
                if key in output:
                    run.output[key] = output[key]
            run.output.setdefault("annotations", []).extend(annotations)
        for key in ("name", "external_id", "details_url"):
            if key in data:
                setattr(run, key, data[key])
        if "actions" in data:
            run.actions = list(data["actions"] or [])
        if data.get("started_at"):
            run.started_at = _parse_time(str(data["started_at"])) or run.started_at
        conclusion = data.get("conclusion")
        status = data.get("status")
        if conclusion is not None:
            run.conclusion = str(conclusion)
            run.status = "completed"
        elif status is not None:
            run.status = str(status)
            if status != "completed":
                run.conclusion = None
        if run.status == "completed":
            if run.conclusion is None:
                raise _unprocessable("Conclusion is required when status is completed")
            completed = _parse_time(str(data.get("completed_at") or ""))
            run.completed_at = completed or run.completed_at or self.clock()
        elif not creating:
            run.completed_at = None

    @route("POST", r"/check-runs", perms=("checks",), level="write")
    def _create_check_run(self, call: Call) -> Reply:
        repo = call.repo
        assert repo is not None
        data = call.body if isinstance(call.body, dict) else {}
        head_sha = str(data.get("head_sha") or "")
        if head_sha not in repo.commits:
            raise _unprocessable("No commit found for SHA: " + head_sha)
        if not data.get("name"):
            raise _unprocessable("Name can't be blank")
        suite = self.check_suite(repo.full_name, head_sha)
        run = CheckRun(self.next_id(), str(data["name"]), head_sha, suite.id, "queued", None,
                       self.clock(), None, {"title": None, "summary": None, "text": None,
                                            "annotations": []}, [])
        self._apply_check_update(run, data, creating=True)
        self.add_check_run(repo.full_name, run)
        return Reply(201, self.shapes.check_run(repo, run))

    def _run_or_404(self, call: Call) -> CheckRun:
        try:
            return self.check_run(call.full_name, call.number("check_run_id"))
        except NotFound:
            raise _not_found() from None

    @route("GET", r"/check-runs/(?P<check_run_id>[^/]+)", perms=("checks",))
    def _get_check_run(self, call: Call) -> Reply:
        assert call.repo is not None
        return Reply(200, self.shapes.check_run(call.repo, self._run_or_404(call)))

    @route("PATCH", r"/check-runs/(?P<check_run_id>[^/]+)", perms=("checks",), level="write")
    def _patch_check_run(self, call: Call) -> Reply:
        assert call.repo is not None
        run = self._run_or_404(call)
        data = call.body if isinstance(call.body, dict) else {}
        # validate before changing anything: a refused update leaves the run as it was
        probe = CheckRun(run.id, run.name, run.head_sha, run.check_suite_id, run.status,
                         run.conclusion, run.started_at, run.completed_at,
                         {**run.output, "annotations": []}, list(run.actions))
        self._apply_check_update(probe, data, creating=False)
        self._apply_check_update(run, data, creating=False)
        return Reply(200, self.shapes.check_run(call.repo, run))

    @route("GET", r"/commits/(?P<ref>.+)/check-runs", perms=("checks",))
    def _commit_check_runs(self, call: Call) -> Reply:
        repo = call.repo
        assert repo is not None
        try:
            sha = self.resolve_ref(repo.full_name, call.params["ref"]).sha
        except NotFound:
            raise HTTPError(422, f"No commit found for SHA: {call.params['ref']}") from None
        runs = [r for r in self.check_runs(repo.full_name) if r.head_sha == sha]
        name, status = call.arg("check_name"), call.arg("status")
        app_id = call.arg("app_id")
        if app_id:
            runs = [r for r in runs if str(r.app_id or self.app_id) == app_id]
        if name:
            runs = [r for r in runs if r.name == name]
        if status:
            runs = [r for r in runs if r.status == status]
        if call.arg("filter", "latest") == "latest":
            latest: dict[str, CheckRun] = {}
            for run in runs:
                if run.name not in latest or run.id > latest[run.name].id:
                    latest[run.name] = run
            runs = list(latest.values())
        runs.sort(key=lambda r: -r.id)
        chunk, headers = self._page(call, runs)
        return Reply(200, {"total_count": len(runs),
                           "check_runs": [self.shapes.check_run(repo, r) for r in chunk]},
                     headers)

    # handlers: the inventory (repository, tarball via codeload, compare) -----------------------
    @route("GET", "", perms=("metadata",))
    def _get_repo(self, call: Call) -> Reply:
        assert call.repo is not None
        shape = self.shapes.repo(call.repo)
        shape.update({"has_discussions": False, "network_count": 0, "subscribers_count": 0})
        return Reply(200, shape)

    @route("GET", r"/tarball/(?P<ref>.+)", perms=("contents",))
    def _tarball(self, call: Call) -> Reply:
        """302 to a codeload URL (as GitHub answers); that URL serves the bytes once."""
        try:
            commit = self.resolve_ref(call.full_name, call.params["ref"])
        except NotFound:
            raise _not_found(f"{DOCS}/repos/contents#download-a-repository-archive-tar") \
                from None
        token = secrets.token_hex(12)
        self.codeload_tokens[token] = (call.full_name, commit.sha)
        owner, name = call.full_name.split("/", 1)
        base = (self.base_url or call.origin).rstrip("/")
        return Reply(302, None, {"Location": f"{base}/_codeload/{owner}/{name}/legacy.tar.gz/"
                                             f"{commit.sha}?token={token}"})

    async def _codeload(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("token", "")
        found = self.codeload_tokens.pop(token, None)
        status = 200 if found is not None and not request.headers.get("Authorization") else 404
        self.requests.append(Recorded("GET", request.path, {}, None, status, "none", {},
                                      self.clock()))
        if status != 200 or found is None:
            return web.Response(status=404, text="Not Found")
        fault = self._take_fault("GET", request.path)  # codeload fails on its own too
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                return web.Response(status=fault.status, text="Server Error")
        full_name, sha = found
        # streamed as it is made (chunked, no length), as codeload serves archives
        response = web.StreamResponse(status=200, headers={
            "Content-Type": "application/x-gzip",
            "Content-Disposition": f"attachment; filename={full_name.replace('/', '-')}-"
                                   f"{sha[:7]}.tar.gz"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for piece in archive.tarball_chunks(self.repo(full_name),
                                            self.repo(full_name).commits[sha], self.blobs):
            await response.write(piece)
        await response.write_eof()
        return response

    @route("GET", r"/compare/(?P<basehead>[^/]+)", perms=("contents",))
    def _compare(self, call: Call) -> Reply:
        base_ref, sep, head_ref = call.params["basehead"].partition("...")
        if not sep:
            raise _not_found()
        try:
            base = self.resolve_ref(call.full_name, base_ref)
            head = self.resolve_ref(call.full_name, head_ref)
        except NotFound:
            raise _not_found(f"{DOCS}/commits/commits#compare-two-commits") from None
        repo = call.repo
        assert repo is not None
        merge_base = repo.commits[self.merge_base(call.full_name, base.sha, head.sha)]
        ahead = [sha for sha in self._ancestors(repo, head.sha)
                 if sha not in set(self._ancestors(repo, merge_base.sha))]
        behind = [sha for sha in self._ancestors(repo, base.sha)
                  if sha not in set(self._ancestors(repo, merge_base.sha))]
        status = ("identical" if not ahead and not behind else "ahead" if not behind
                  else "behind" if not ahead else "diverged")
        api, html = self.shapes.api(), self.shapes.html()
        author = self.shapes.user(repo.owner)
        added, removed, modified = archive.changes(merge_base.tree, head.tree)
        files = ([archive.diff_entry(api, html, repo, head.sha, p, "added", head.tree[p])
                  for p in added]
                 + [archive.diff_entry(api, html, repo, head.sha, p, "removed", merge_base.tree[p])
                    for p in removed]
                 + [archive.diff_entry(api, html, repo, head.sha, p, "modified", head.tree[p])
                    for p in modified])
        files.sort(key=lambda f: f["filename"])
        url = f"{api}/repos/{call.full_name}/compare/{call.params['basehead']}"
        return Reply(200, {
            "url": url, "html_url": f"{html}/{call.full_name}/compare/{call.params['basehead']}",
            "permalink_url": f"{html}/{call.full_name}/compare/{base.sha}...{head.sha}",
            "diff_url": f"{html}/{call.full_name}/compare/{call.params['basehead']}.diff",
            "patch_url": f"{html}/{call.full_name}/compare/{call.params['basehead']}.patch",
            "base_commit": archive.commit_shape(api, html, repo, base, author),
            "merge_base_commit": archive.commit_shape(api, html, repo, merge_base, author),
            "status": status, "ahead_by": len(ahead), "behind_by": len(behind),
            "total_commits": len(ahead),
            "commits": [archive.commit_shape(api, html, repo, repo.commits[sha], author)
                        for sha in reversed(ahead)][:250],
            "files": files[:300],
        })

    def payload_push(self, full_name: str, before: str, after: str | None = None, *,
                     branch: str | None = None, sender: str = "octocat") -> dict[str, Any]:
        """A ``push`` payload for ``branch`` (default: the default branch) moving from
        ``before`` to ``after`` (default: the branch's head); at most 20 commits listed."""
        repo = self.repo(full_name)
        branch = branch or repo.default_branch
        after = after or repo.branches[branch]
        html = self.shapes.html()
        known = set(self._ancestors(repo, before)) if before.strip("0") else set()
        shas = [s for s in reversed(self._ancestors(repo, after)) if s not in known]
        commits = []
        for sha in shas:
            commit = repo.commits[sha]
            parent = repo.commits[commit.parents[0]].tree if commit.parents else None
            added, removed, modified = archive.changes(parent, commit.tree)
            person = {"name": sender, "email": f"{sender}@users.noreply.emulator",
                      "username": sender}
            commits.append({
                "id": sha, "tree_id": sha, "distinct": True, "message": commit.message,
                "timestamp": iso(commit.timestamp),
                "url": f"{html}/{full_name}/commit/{sha}", "author": person,
                "committer": person, "added": added, "removed": removed, "modified": modified})
        payload: dict[str, Any] = {
            "ref": f"refs/heads/{branch}", "before": before, "after": after,
            "created": not before.strip("0"), "deleted": False, "forced": False,
            "base_ref": None, "compare": f"{html}/{full_name}/compare/{before[:12]}...{after[:12]}",
            "commits": commits[-20:], "head_commit": commits[-1] if commits else None,
            "pusher": {"name": sender, "email": f"{sender}@users.noreply.emulator"},
        }
        payload.update(self._envelope(repo, None, sender))
        return payload


def _credential(header: str) -> tuple[str, str]:
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


def _match(method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
    for spec_route in _ROUTES:
        if spec_route[0] != method:
            continue
        found = spec_route[1].match(path)
        if found:
            return spec_route, found.groupdict()
    return None


def _b64_lines(data: bytes) -> str:
    """Base64 in 60-character lines, each ending with a newline, as GitHub sends it."""
    text = base64.b64encode(data).decode("ascii")
    return "".join(text[i:i + 60] + "\n" for i in range(0, len(text), 60))


def _parse_time(value: str) -> float | None:
    import datetime as dt

    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@asynccontextmanager
async def _serve(emulator: GitHubEmulator, host: str) -> AsyncIterator[str]:
    runner = web.AppRunner(emulator.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        emulator.base_url = f"http://{host}:{port}"
        yield emulator.base_url
    finally:
        await runner.cleanup()


class EmulatorServer:
    """``async with EmulatorServer(emu) as base_url:`` serves the emulator on a free loopback
    port and sets ``emu.base_url``."""

    def __init__(self, emulator: GitHubEmulator, host: str = "127.0.0.1") -> None:
        self.emulator = emulator
        self.host = host
        self._context: Any = None

    async def __aenter__(self) -> str:
        self._context = _serve(self.emulator, self.host)
        url: str = await self._context.__aenter__()
        return url

    async def __aexit__(self, *exc: object) -> None:
        await self._context.__aexit__(*exc)

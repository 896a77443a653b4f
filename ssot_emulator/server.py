"""The emulated GitHub over HTTP. :class:`GitHubEmulator` is the facade tests and the demo use:
it holds the state (:class:`~ssot_emulator.state.EmulatorState`, by composition), the faults
and rate limits, the tokens and the request log; :mod:`ssot_emulator.app` serves it over aiohttp
and :mod:`ssot_emulator.webhooks` builds, signs and delivers its webhooks.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Concatenate, Generic, Literal, ParamSpec, TypeVar

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ssot_emulator import webhooks
from ssot_emulator.app import build_app
from ssot_emulator.auth import IssuedToken
from ssot_emulator.endpoints import Recorded
from ssot_emulator.errors import HTTPError
from ssot_emulator.faults import Fault, Faults
from ssot_emulator.graphql import Queries
from ssot_emulator.openapi import RequestValidator
from ssot_emulator.ratelimits import RATE_LIMIT, RateLimits
from ssot_emulator.render import Shapes
from ssot_emulator.state import EmulatorState, Issue

__all__ = ["EmulatorServer", "Fault", "GitHubEmulator", "HTTPError", "IssuedToken", "Recorded"]

DEFAULT_PERMISSIONS = {"checks": "write", "pull_requests": "write", "issues": "write",
                       "contents": "read", "metadata": "read"}
DEFAULT_EVENTS = ["pull_request", "issue_comment", "check_run", "check_suite", "push"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


class _State(Generic[_P, _R]):
    """A method of :class:`EmulatorState`, reached through the facade's ``state``."""

    def __init__(self, method: Callable[Concatenate[EmulatorState, _P], _R]) -> None:
        self._name = method.__name__
        self.__doc__ = method.__doc__

    def __get__(self, emulator: GitHubEmulator, owner: object = None) -> Callable[_P, _R]:
        bound: Callable[_P, _R] = getattr(emulator.state, self._name)
        return bound


class GitHubEmulator:
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
        self.state = EmulatorState(**({"clock": clock} if clock else {}))
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
        self.fault_plan = Faults()
        self.rate_limits = RateLimits(lambda: self.clock())
        self.tokens: dict[str, IssuedToken] = {}
        self.validator = RequestValidator.from_path(spec_path) if spec_path else None
        # POST /graphql: queries validated against GitHub's schema (invalid ones listed there)
        self.graphql = Queries(self.state)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key_pem: str = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")
        self.public_key = key.public_key()
        self.shapes = Shapes(self.state, self._api_base, app_id=app_id, slug=app_slug,
                             app_owner=app_owner,
                             permissions=dict(permissions or DEFAULT_PERMISSIONS),
                             events=list(DEFAULT_EVENTS))
        self.payloads = webhooks.Payloads(self.state, self.shapes)

    def _api_base(self) -> str:
        return self.base_url or "http://127.0.0.1"

    @property
    def bot_login(self) -> str:
        return self.shapes.bot_login

    # the state, by composition --------------------------------------------------------------
    @property
    def clock(self) -> Callable[[], float]:
        return self.state.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.state.clock = clock

    @property
    def installations(self) -> dict[int, str]:
        return self.state.installations

    @property
    def blobs(self) -> dict[str, bytes]:
        return self.state.blobs

    next_id = _State(EmulatorState.next_id)
    user_id = _State(EmulatorState.user_id)
    add_installation = _State(EmulatorState.add_installation)
    add_repo = _State(EmulatorState.add_repo)
    repo = _State(EmulatorState.repo)
    repos = _State(EmulatorState.repos)
    commit = _State(EmulatorState.commit)
    resolve_ref = _State(EmulatorState.resolve_ref)
    file_at = _State(EmulatorState.file_at)
    repo_has_blob = _State(EmulatorState.repo_has_blob)
    commits_between = _State(EmulatorState.commits_between)
    merge_base = _State(EmulatorState.merge_base)
    create_issue = _State(EmulatorState.create_issue)
    open_pull_request = _State(EmulatorState.open_pull_request)
    issue = _State(EmulatorState.issue)
    issues = _State(EmulatorState.issues)
    pull = _State(EmulatorState.pull)
    pulls = _State(EmulatorState.pulls)
    head_sha = _State(EmulatorState.head_sha)
    base_sha = _State(EmulatorState.base_sha)
    set_pr_body = _State(EmulatorState.set_pr_body)
    merge_pull_request = _State(EmulatorState.merge_pull_request)
    close_pull_request = _State(EmulatorState.close_pull_request)
    reopen_pull_request = _State(EmulatorState.reopen_pull_request)
    set_draft = _State(EmulatorState.set_draft)
    pull_files = _State(EmulatorState.pull_files)
    add_issue_comment = _State(EmulatorState.add_issue_comment)
    comment = _State(EmulatorState.comment)
    reactions = _State(EmulatorState.reactions)
    add_reaction = _State(EmulatorState.add_reaction)
    set_permission = _State(EmulatorState.set_permission)
    permission = _State(EmulatorState.permission)
    reviews = _State(EmulatorState.reviews)
    review_comments = _State(EmulatorState.review_comments)
    review_comment = _State(EmulatorState.review_comment)
    add_review_comment = _State(EmulatorState.add_review_comment)
    check_suite = _State(EmulatorState.check_suite)
    check_runs = _State(EmulatorState.check_runs)
    check_run = _State(EmulatorState.check_run)
    add_check_run = _State(EmulatorState.add_check_run)
    open_pulls_with_head = _State(EmulatorState.open_pulls_with_head)

    def update_issue(self, full_name: str, number: int, **changes: Any) -> Issue:
        return self.state.update_issue(full_name, number, **changes)

    # faults and rate limits -----------------------------------------------------------------
    @property
    def faults(self) -> list[Fault]:
        return self.fault_plan.items

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
        self.fault_plan.items.append(fault)
        return fault

    @property
    def enforce_rate_limits(self) -> bool:
        """True: a request whose bucket is empty is answered 403, as GitHub does."""
        return self.rate_limits.enforce

    @enforce_rate_limits.setter
    def enforce_rate_limits(self, enforce: bool) -> None:
        self.rate_limits.enforce = enforce

    def set_rate_limit(self, installation_id: int, remaining: int, *,
                       limit: int = RATE_LIMIT, reset_in: float = 3600.0,
                       resource: str = "core") -> None:
        """Set an installation's bucket (all its tokens share it, as on GitHub); ``resource``:
        ``core`` (REST) or ``graphql`` (GitHub keeps a bucket of its own for each)."""
        self.rate_limits.set(installation_id, remaining, limit=limit, reset_in=reset_in,
                             resource=resource)

    def rate_remaining(self, installation_id: int, resource: str = "core") -> int | None:
        bucket = self.rate_limits.buckets.get(
            self.rate_limits.installation_key(installation_id, resource))
        return None if bucket is None else bucket.remaining

    # tokens -----------------------------------------------------------------------------------
    def issue_token(self, installation_id: int) -> str:
        """A valid installation token without the JWT exchange (for tests that only need one)."""
        token = "ghs_" + secrets.token_hex(18)
        self.tokens[token] = IssuedToken(installation_id, self.clock() + self.token_lifetime,
                                         dict(self.shapes.permissions))
        return token

    # the HTTP application ----------------------------------------------------------------------
    def app(self) -> web.Application:
        return build_app(self)

    # webhooks ---------------------------------------------------------------------------------
    def payload_pull_request(self, full_name: str, number: int, action: str,
                             **extra: Any) -> dict[str, Any]:
        return self.payloads.pull_request(full_name, number, action, **extra)

    def payload_issue_comment(self, full_name: str, number: int, comment_id: int,
                              action: str = "created") -> dict[str, Any]:
        return self.payloads.issue_comment(full_name, number, comment_id, action)

    def payload_issues(self, full_name: str, number: int, action: str = "edited",
                       sender: str | None = None) -> dict[str, Any]:
        return self.payloads.issues(full_name, number, action, sender)

    def payload_check_run(self, full_name: str, check_run_id: int, action: str,
                          requested_action_identifier: str | None = None,
                          sender: str = "octocat") -> dict[str, Any]:
        return self.payloads.check_run(full_name, check_run_id, action,
                                       requested_action_identifier, sender)

    def payload_check_suite(self, full_name: str, head_sha: str, action: str = "rerequested",
                            sender: str = "octocat") -> dict[str, Any]:
        return self.payloads.check_suite(full_name, head_sha, action, sender)

    def payload_push(self, full_name: str, before: str, after: str | None = None, *,
                     branch: str | None = None, sender: str = "octocat") -> dict[str, Any]:
        return self.payloads.push(full_name, before, after, branch=branch, sender=sender)

    signature = staticmethod(webhooks.signature)

    async def deliver(self, url: str, secret: str, event: str, payload: dict[str, Any], *,
                      delivery_id: str | None = None) -> int:
        """POST a webhook the way GitHub does; returns the answer's status."""
        return await webhooks.deliver(url, secret, event, payload, app_id=self.app_id,
                                      delivery_id=delivery_id)


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

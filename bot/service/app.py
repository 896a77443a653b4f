"""The aiohttp application: ``POST WEBHOOK_PATH``, ``GET /healthz``, ``GET /metrics``.

Where a webhook enters. The endpoint only verifies, deduplicates and hands the event to the
router in the background; it answers in milliseconds. Refusals in the order of
docs/behaviour.md §3: 413 (before reading past 25 MiB), 401, 415, 400.

The app is composed where the process starts (:mod:`bot.service.main`, the demo, the tests):
``create_app(bot, router)`` takes the gidgethub router, so this HTTP layer imports no handler.

Hostile clients (anyone can reach the endpoint):
- the body is read in chunks, the HMAC of every configured secret updated as they arrive;
  past 25 MiB the read stops (413), and a body not complete within ``body_deadline`` seconds
  (30) is dropped (408, the connection closed);
- at most ``concurrent_reads`` (64) bodies are read at once. A request finding every slot taken
  waits ``read_slot_wait`` (1 s) for one, then is refused with 503 and ``Retry-After``: waiting
  without bound would let 64 slow uploads queue every later delivery behind them, refusing at
  once would turn an ordinary burst of deliveries into failures. GitHub marks a refused delivery
  failed and it can be redelivered;
- metric labels come only from :data:`EVENT_LABELS` (``other`` for any other event name,
  ``unauthenticated`` for every refused request), so random headers cannot grow ``/metrics``;
- a client that resets the connection is logged at INFO, never as an ERROR traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from gidgethub import routing, sansio

from bot import __version__, logs
from bot.manifest import MANIFEST_REDIRECT_PATH
from bot.service.context import Bot
from bot.service.jobs import current_tenant
from bot.service.metrics import CONTENT_TYPE_LATEST
from bot.service.setup import manifest_page

log = logging.getLogger(__name__)

MAX_BODY = 25 * 1024 * 1024
BOT_KEY: web.AppKey[Bot] = web.AppKey("bot", Bot)

# GitHub's webhook event names (docs: "Webhook events and payloads"); any other header value
# is counted as ``other``, so the label set is fixed whatever a client sends.
EVENT_LABELS: frozenset[str] = frozenset({
    "branch_protection_configuration", "branch_protection_rule", "check_run", "check_suite",
    "code_scanning_alert", "commit_comment", "create", "custom_property",
    "custom_property_values", "delete", "dependabot_alert", "deploy_key", "deployment",
    "deployment_protection_rule", "deployment_review", "deployment_status", "discussion",
    "discussion_comment", "fork", "github_app_authorization", "gollum", "installation",
    "installation_repositories", "installation_target", "issue_comment", "issues", "label",
    "marketplace_purchase", "member", "membership", "merge_group", "meta", "milestone",
    "org_block", "organization", "package", "page_build", "personal_access_token_request", "ping",
    "project", "project_card", "project_column", "projects_v2", "projects_v2_item", "public",
    "pull_request", "pull_request_review", "pull_request_review_comment",
    "pull_request_review_thread", "push", "registry_package", "release", "repository",
    "repository_advisory", "repository_dispatch", "repository_import", "repository_ruleset",
    "repository_vulnerability_alert", "secret_scanning_alert", "secret_scanning_alert_location",
    "security_advisory", "security_and_analysis", "sponsorship", "star", "status", "sub_issues",
    "team", "team_add", "watch", "workflow_dispatch", "workflow_job", "workflow_run"
})
UNAUTHENTICATED = "unauthenticated"


@dataclass(frozen=True)
class EndpointLimits:
    """What one webhook request may cost before it is authenticated."""

    max_body: int = MAX_BODY
    body_deadline: float = 30.0  # seconds for the whole body to arrive
    concurrent_reads: int = 64  # bodies read at once
    read_slot_wait: float = 1.0  # seconds a request waits for a free read slot, then 503


ROUTER_KEY: web.AppKey[routing.Router] = web.AppKey("router", routing.Router)
LIMITS_KEY: web.AppKey[EndpointLimits] = web.AppKey("limits", EndpointLimits)
READS_KEY: web.AppKey[asyncio.Semaphore] = web.AppKey("reads", asyncio.Semaphore)


def event_label(event_name: str | None) -> str:
    """The metric label for an ``X-GitHub-Event`` value (a fixed set)."""
    return event_name if event_name in EVENT_LABELS else "other"


def _macs(secrets: Sequence[str]) -> list[hmac.HMAC]:
    return [hmac.new(s.encode("utf-8"), digestmod=hashlib.sha256) for s in secrets]


def _matches(macs: Sequence[hmac.HMAC], header: str | None) -> bool:
    """Any of the running HMACs equals the header's (constant-time comparisons, all of them)."""
    if not header or not header.startswith("sha256="):
        return False
    given = header.removeprefix("sha256=").strip().encode("ascii", "replace")
    ok = False
    for mac in macs:
        ok |= hmac.compare_digest(mac.hexdigest().encode("ascii"), given)
    return ok


class _TooLarge(Exception):
    pass


async def _read_signed(request: web.Request, macs: Sequence[hmac.HMAC], limit: int) -> bytes:
    """The body, every HMAC updated chunk by chunk. Raises :class:`_TooLarge` without reading
    past ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        for mac in macs:
            mac.update(chunk)
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"message": message, **extra}, status=status)


# The client went away mid-body: aiohttp reports it as one of these.
_CLIENT_GONE = (ConnectionError, aiohttp.ClientPayloadError,
                aiohttp.http_exceptions.HttpProcessingError, asyncio.IncompleteReadError)


async def webhook(request: web.Request) -> web.Response:
    bot = request.app[BOT_KEY]
    limits = request.app[LIMITS_KEY]
    event_name = request.headers.get("X-GitHub-Event")
    delivery_id = request.headers.get("X-GitHub-Delivery", "")
    label = event_label(event_name)

    def refuse(status: int, outcome: str, message: str, **headers: str) -> web.Response:
        bot.metrics.deliveries.labels(UNAUTHENTICATED, outcome).inc()
        log.info("delivery refused", extra={"status": status, "reason": message,
                                             "delivery": delivery_id[:100], "event": label})
        response = _answer(status, message)
        response.headers.update(headers)
        return response

    reads = request.app[READS_KEY]
    try:
        # not wait_for: in Python 3.11 it runs the acquire in a task of its own, three more
        # turns of the event loop for every delivery, each as long as the analysis's busiest
        # (the webhook p99 under a 300-file fetch); a free slot is taken without yielding
        async with asyncio.timeout(limits.read_slot_wait):
            await reads.acquire()
    except TimeoutError:
        return refuse(503, "busy", "too many requests being read; try again", **{
            "Retry-After": "1"})
    macs = _macs(bot.settings.webhook_secrets)
    try:
        async with asyncio.timeout(limits.body_deadline):
            body = await _read_signed(request, macs, limits.max_body)
    except _TooLarge:
        return refuse(413, "too-large", "payload exceeds 25 MiB")
    except TimeoutError:
        response = refuse(408, "timeout", "request body not received in time")
        response.force_close()
        return response
    except _CLIENT_GONE as exc:
        # The client reset the connection: nobody is there to answer.
        bot.metrics.deliveries.labels(UNAUTHENTICATED, "client-gone").inc()
        log.info("client went away while sending", extra={"error": type(exc).__name__,
                                                          "event": label})
        return _answer(400, "connection lost")
    finally:
        reads.release()
    if not _matches(macs, request.headers.get("X-Hub-Signature-256")):
        return refuse(401, "bad-signature", "signature missing or wrong")
    if request.content_type != "application/json":
        return refuse(415, "bad-content-type", "expected application/json")
    if not event_name:
        return refuse(400, "bad-request", "X-GitHub-Event header missing")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return refuse(400, "bad-request", "body is not JSON")
    if not isinstance(data, dict):
        return refuse(400, "bad-request", "body is not a JSON object")
    if event_name == "ping":
        bot.metrics.deliveries.labels("ping", "pong").inc()
        return _answer(200, "pong", zen=data.get("zen"))
    if bot.shared is not None:
        return await _store_delivery(bot, request.app[ROUTER_KEY], event_name, delivery_id,
                                     data, body)
    if delivery_id and not bot.deliveries.begin(delivery_id):
        bot.metrics.deliveries.labels(label, "duplicate").inc()
        return _answer(202, "duplicate delivery, already accepted")
    event = sansio.Event(data, event=event_name, delivery_id=delivery_id)
    router = request.app[ROUTER_KEY]
    if not router.fetch(event):
        bot.deliveries.succeeded(delivery_id)
        bot.metrics.deliveries.labels(label, "ignored").inc()
        return _answer(202, "accepted; nothing to do for this event")
    bot.metrics.deliveries.labels(label, "accepted").inc()
    bot.spawn(_dispatch(bot, router, event))
    return _answer(202, "accepted")


STORE_WAIT = 5.0  # seconds a webhook waits for the shared database to store it, then 503


async def _store_delivery(bot: Bot, router: routing.Router, event_name: str, delivery_id: str,
                          data: dict[str, Any], body: bytes) -> web.Response:
    """Shared mode: the delivery is stored as a job before the 202 (any replica's worker runs
    it); 503 when the database cannot store it, so that GitHub marks it failed."""
    from bot.service.shared import DatabaseUnavailable

    assert bot.shared is not None
    label = event_label(event_name)
    if not router.fetch(sansio.Event(data, event=event_name, delivery_id=delivery_id)):
        bot.metrics.deliveries.labels(label, "ignored").inc()
        return _answer(202, "accepted; nothing to do for this event")
    try:
        async with asyncio.timeout(STORE_WAIT):  # a database that hangs counts as away
            fresh = await bot.shared.accept_delivery(delivery_id[:200], event_name, body)
    except (DatabaseUnavailable, TimeoutError) as exc:
        bot.metrics.deliveries.labels(label, "unavailable").inc()
        log.warning("delivery refused: shared database unreachable",
                    extra={"delivery": delivery_id[:100],
                           "error": str(exc)[:200] or type(exc).__name__})
        response = _answer(503, "database unreachable; redeliver later")
        response.headers["Retry-After"] = "30"
        return response
    if not fresh:
        bot.metrics.deliveries.labels(label, "duplicate").inc()
        return _answer(202, "duplicate delivery, already accepted")
    bot.metrics.deliveries.labels(label, "accepted").inc()
    return _answer(202, "accepted")


async def run_delivery(bot: Bot, router: routing.Router, args: Mapping[str, Any],
                       payload: bytes | None) -> None:
    """A stored delivery, on a worker: its handlers, as one process runs them. Raises when
    they failed, so that its id is forgotten and GitHub's Redeliver runs it again."""
    event = sansio.Event(json.loads(payload or b"{}"), event=str(args.get("event")),
                         delivery_id=str(args.get("delivery") or ""))
    if not await _dispatch(bot, router, event):
        raise RuntimeError("delivery failed")


async def _dispatch(bot: Bot, router: routing.Router, event: sansio.Event) -> bool:
    """Run the event's handlers (each GitHub call under the one retry policy; the delivery is
    not retried on top). The delivery id is remembered only when this succeeded, so GitHub's
    "Redeliver" runs a failed delivery again."""
    repo = (event.data.get("repository") or {}).get("full_name")
    token = logs.bind(delivery=event.delivery_id, event=event.event,
                      action=event.data.get("action"), repo=repo,
                      installation=(event.data.get("installation") or {}).get("id"))
    started = time.perf_counter()
    ok = False
    try:
        await router.dispatch(event, bot.parts)
        ok = True
    except Exception:
        log.exception("handler failed")
    finally:
        if event.delivery_id and bot.shared is None:
            if ok:
                bot.deliveries.succeeded(event.delivery_id)
            else:
                bot.deliveries.failed(event.delivery_id)
        bot.metrics.deliveries.labels(event_label(event.event), "handled" if ok else "failed"
                                      ).inc()
        log.info("delivery handled",
                 extra={"duration_ms": round((time.perf_counter() - started) * 1000, 1),
                        "ok": ok})
        logs.unbind(token)
    return ok


HEALTH_DB_WAIT = 2.0  # seconds /healthz waits for the shared database


async def _queue_state(bot: Bot) -> Any:
    """Shared mode: the queue's state, or None when the database does not answer."""
    from bot.service.shared import DatabaseUnavailable

    assert bot.shared is not None
    try:
        async with asyncio.timeout(HEALTH_DB_WAIT):
            return await bot.shared.queue_state()
    except (DatabaseUnavailable, TimeoutError):
        return None


async def healthz(request: web.Request) -> web.Response:
    bot = request.app[BOT_KEY]
    answer: dict[str, Any] = {
        "status": "ok",
        "version": __version__,
        "jobs": {"queued": bot.jobs.queued, "running": bot.jobs.running},
    }
    if bot.shared is None:
        return web.json_response(answer)
    state = await _queue_state(bot)
    answer["role"] = bot.settings.role
    if state is None:
        answer.update(status="unavailable", database="unreachable")
        return web.json_response(answer, status=503)
    answer.update(database="ok", queue=state.queued, running=state.running)
    return web.json_response(answer)


async def metrics(request: web.Request) -> web.Response:
    bot = request.app[BOT_KEY]
    bot.metrics.jobs_queued.set(bot.jobs.queued)
    bot.metrics.jobs_running.set(bot.jobs.running)
    if bot.shared is not None:
        await _queue_state(bot)  # sets the queue's gauges
    return web.Response(body=bot.metrics.render(),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


JobKinds = Mapping[str, Callable[[Any, Mapping[str, Any]], Awaitable[None]]]


def create_app(bot: Bot, router: routing.Router, *,
               limits: EndpointLimits | None = None,
               job_kinds: JobKinds | None = None) -> web.Application:
    """The service around an already-built :class:`Bot` and the router of its handlers.
    ``job_kinds``: the runners of stored jobs by kind (shared mode's workers)."""
    limits = limits or EndpointLimits()
    app = web.Application(client_max_size=limits.max_body + 1)
    app[BOT_KEY] = bot
    app[ROUTER_KEY] = router
    app[LIMITS_KEY] = limits
    app[READS_KEY] = asyncio.Semaphore(limits.concurrent_reads)
    if bot.settings.serves_webhooks:
        app.router.add_post(bot.settings.webhook_path, webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get(MANIFEST_REDIRECT_PATH,
                       manifest_page(bot.settings.api_url, bot.settings.webhook_path))

    async def lifecycle(app: web.Application) -> Any:
        await bot.start()
        worker = None
        if bot.shared is not None and bot.settings.runs_jobs:
            from bot.service.shared import Worker

            worker = Worker(bot.shared, _runners(bot, router, job_kinds or {}),
                            slots=bot.settings.max_concurrent_analyses)
            await worker.start()
        yield
        if worker is not None:
            await worker.stop(grace=25.0)
        await bot.stop()

    app.cleanup_ctx.append(lifecycle)
    return app


def _runners(bot: Bot, router: routing.Router, kinds: JobKinds) -> dict[str, Any]:
    def bound(run: Callable[[Any, Mapping[str, Any]], Awaitable[None]]) -> Any:
        async def runner(args: Mapping[str, Any], _payload: bytes | None) -> None:
            # the engine's workers queue this job's files under its installation (fairness)
            current_tenant.set(args.get("installation"))
            await run(bot.parts, args)
        return runner

    async def delivery(args: Mapping[str, Any], payload: bytes | None) -> None:
        await run_delivery(bot, router, args, payload)

    return {**{kind: bound(run) for kind, run in kinds.items()}, "delivery": delivery}


@contextlib.asynccontextmanager
async def serving(bot: Bot, router: routing.Router, host: str = "127.0.0.1", port: int = 0, *,
                  limits: EndpointLimits | None = None,
                  job_kinds: JobKinds | None = None) -> AsyncIterator[str]:
    """Serve the app inside a running event loop (tests, the demo); yields the webhook URL.
    ``ssot-bot serve`` uses :func:`aiohttp.web.run_app` instead, for its signal handling."""
    runner = web.AppRunner(create_app(bot, router, limits=limits, job_kinds=job_kinds))
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        bound_port = runner.addresses[0][1]
        yield f"http://{host}:{bound_port}{bot.settings.webhook_path}"
    finally:
        await runner.cleanup()

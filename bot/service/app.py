"""The aiohttp application: ``POST WEBHOOK_PATH``, ``GET /healthz``, ``GET /metrics``.

Where a webhook enters. The endpoint only verifies, deduplicates and hands the event to the
routers in the background; it answers in milliseconds. Refusals in the order of
docs/behaviour.md §3: 413 (before reading past 25 MiB), 401, 415, 400.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from gidgethub import sansio

from bot import __version__
from bot.handlers import router
from bot.service import logs
from bot.service.context import Bot
from bot.service.metrics import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)

MAX_BODY = 25 * 1024 * 1024
BOT_KEY: web.AppKey[Bot] = web.AppKey("bot", Bot)


def signature_ok(body: bytes, header: str | None, secrets: tuple[str, ...]) -> bool:
    """HMAC-SHA256 of the raw body under any configured secret, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    given = header.removeprefix("sha256=").strip().encode("ascii", "replace")
    ok = False
    for secret in secrets:
        expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        ok |= hmac.compare_digest(expected.encode("ascii"), given)
    return ok


async def _read_limited(request: web.Request) -> bytes | None:
    """The body, or None when it exceeds MAX_BODY (without reading past the limit)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"message": message, **extra}, status=status)


async def webhook(request: web.Request) -> web.Response:
    bot = request.app[BOT_KEY]
    event_name = request.headers.get("X-GitHub-Event")
    delivery_id = request.headers.get("X-GitHub-Delivery", "")

    def refuse(status: int, outcome: str, message: str) -> web.Response:
        bot.metrics.deliveries.labels(event_name or "none", outcome).inc()
        log.info("delivery refused", extra={"status": status, "reason": message,
                                             "delivery": delivery_id, "event": event_name})
        return _answer(status, message)

    body = await _read_limited(request)
    if body is None:
        return refuse(413, "too-large", "payload exceeds 25 MiB")
    if not signature_ok(body, request.headers.get("X-Hub-Signature-256"),
                        bot.settings.webhook_secrets):
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
    if delivery_id and bot.deliveries.seen(delivery_id):
        bot.metrics.deliveries.labels(event_name, "duplicate").inc()
        return _answer(202, "duplicate delivery, already accepted")
    if delivery_id:
        bot.deliveries.remember(delivery_id)
    event = sansio.Event(data, event=event_name, delivery_id=delivery_id)
    if not router.fetch(event):
        bot.metrics.deliveries.labels(event_name, "ignored").inc()
        return _answer(202, "accepted; nothing to do for this event")
    bot.metrics.deliveries.labels(event_name, "accepted").inc()
    bot.spawn(_dispatch(bot, event))
    return _answer(202, "accepted")


async def _dispatch(bot: Bot, event: sansio.Event) -> None:
    repo = (event.data.get("repository") or {}).get("full_name")
    token = logs.bind(delivery=event.delivery_id, event=event.event,
                      action=event.data.get("action"), repo=repo,
                      installation=(event.data.get("installation") or {}).get("id"))
    started = time.perf_counter()
    try:
        await router.dispatch(event, bot)
    except Exception:
        log.exception("handler failed")
    finally:
        log.info("delivery handled",
                 extra={"duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        logs.unbind(token)


async def healthz(request: web.Request) -> web.Response:
    bot = request.app[BOT_KEY]
    return web.json_response({
        "status": "ok",
        "version": __version__,
        "jobs": {"queued": bot.jobs.queued, "running": bot.jobs.running},
    })


async def metrics(request: web.Request) -> web.Response:
    bot = request.app[BOT_KEY]
    bot.metrics.jobs_queued.set(bot.jobs.queued)
    bot.metrics.jobs_running.set(bot.jobs.running)
    return web.Response(body=bot.metrics.render(),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(bot: Bot) -> web.Application:
    """The service around an already-built :class:`Bot` (tests build one against an emulator)."""
    app = web.Application(client_max_size=MAX_BODY + 1)
    app[BOT_KEY] = bot
    app.router.add_post(bot.settings.webhook_path, webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)

    async def lifecycle(app: web.Application) -> Any:
        await bot.start()
        yield
        await bot.stop()

    app.cleanup_ctx.append(lifecycle)
    return app


@contextlib.asynccontextmanager
async def serving(bot: Bot, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve the app inside a running event loop (tests, the demo); yields the webhook URL.
    ``ssot-bot serve`` uses :func:`aiohttp.web.run_app` instead, for its signal handling."""
    runner = web.AppRunner(create_app(bot))
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        bound_port = runner.addresses[0][1]
        yield f"http://{host}:{bound_port}{bot.settings.webhook_path}"
    finally:
        await runner.cleanup()

"""``ssot-bot serve``: run the webhook service until SIGTERM / SIGINT, then drain gracefully.

The first SIGTERM (or SIGINT) stops taking work: the listener stays open and answers every
webhook with 503 and ``Retry-After`` (GitHub marks the delivery failed; it can be redelivered)
and ``/healthz`` with 503 (a load balancer stops sending traffic), while the running jobs get
:data:`DRAIN_GRACE` seconds to finish; the rest are cancelled (handed back: redelivery and the
catch-up pass redo them). Then the process exits 0. A second signal while draining exits at
once (status 1), without a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot import logs
from bot.config.loader import bundled_config
from bot.handlers import job_kinds, router
from bot.service.app import BOT_KEY, create_app
from bot.service.context import Bot
from bot.settings import SettingsError, load_settings, role_problems

log = logging.getLogger(__name__)


def serve_main(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
        role = getattr(args, "role", None)
        if role is not None:  # --role wins over SSOT_ROLE
            problems = role_problems(role, shared=settings.shared)
            if problems:
                raise SettingsError("; ".join(problems))
            settings = dataclasses.replace(settings, role=role)
    except SettingsError as exc:
        print(f"ssot-bot serve: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    # The analysis thread holds the GIL while it prepares files for the worker processes; a
    # shorter switch interval lets the event loop answer webhooks within milliseconds meanwhile.
    sys.setswitchinterval(0.0005)
    host = getattr(args, "host", None) or settings.host
    port = getattr(args, "port", None) or settings.port
    # The composition root: the HTTP layer gets its router here (it imports no handler).
    app = create_app(Bot(settings), router, job_kinds=job_kinds)
    # Before serving, not on the first analysis's event loop: the default configuration's parse
    # and schema check (~0.1 s of CPU, it blocked the first webhooks for up to 250 ms).
    bundled_config()
    # Everything imported so far (libcst, jsonschema, aiohttp: ~70,000 objects) lives as long
    # as the process: out of the collector's sight, a full collection no longer walks it
    # (35-50 ms with the GIL held, several times per 300-file analysis, before).
    gc.collect()
    gc.freeze()
    log.info("serving", extra={"host": host, "port": port, "webhook_path": settings.webhook_path,
                               "api_url": settings.api_url, "app_id": settings.app_id})
    draining = Draining()
    app.middlewares.append(draining.middleware)
    asyncio.run(_serve(app, host, port, draining))
    return 0


DRAIN_GRACE = 25.0  # seconds the running jobs get after the first signal
CLOSE_BOUND = 15.0  # seconds for the rest of the shutdown (sockets, tasks, pool, session)


class Draining:
    """Whether the service is shutting down, and the middleware that then refuses work."""

    def __init__(self) -> None:
        self.on = False

    @web.middleware
    async def middleware(
        self, request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        if self.on and (request.method == "POST" or request.path == "/healthz"):
            return web.json_response({"status": "shutting down"}, status=503,
                                     headers={"Retry-After": "30", "Connection": "close"})
        return await handler(request)


async def _serve(app: web.Application, host: str, port: int, draining: Draining) -> None:
    # requests still in flight at the end get a few seconds (the webhook answers in ms)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=3.0)
    await runner.setup()  # starts the Bot (cleanup_ctx)
    await web.TCPSite(runner, host, port).start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            log.warning("second signal: exiting now", extra={"signal": signum})
            logging.shutdown()
            os._exit(1)
        log.info("draining", extra={"signal": signum, "grace_s": DRAIN_GRACE})
        draining.on = True
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    await stop.wait()
    # webhooks meanwhile get 503
    await app[BOT_KEY].drain(grace=DRAIN_GRACE)
    try:
        await asyncio.wait_for(runner.cleanup(), timeout=CLOSE_BOUND)
    except TimeoutError:
        log.warning("shutdown took longer than its bound; exiting", extra={"bound_s": CLOSE_BOUND})
    log.info("stopped")


def migrate_main(args: argparse.Namespace) -> int:
    """``ssot-bot migrate``: create or update the shared database's schema (contract §15)."""
    url = (getattr(args, "database_url", None) or os.environ.get("DATABASE_URL", "")).strip()
    if not url:
        print("ssot-bot migrate: DATABASE_URL is not set (shared mode only)", file=sys.stderr)
        return 2
    try:
        import psycopg

        from bot.service.schema import migrate
    except ImportError:
        print("ssot-bot migrate: shared mode needs the extra: pip install 'ssot-bot[shared]'",
              file=sys.stderr)
        return 2

    async def run() -> int:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True,
                                                         connect_timeout=10) as conn:
            return await migrate(conn)

    try:
        version = asyncio.run(run())
    except psycopg.Error as exc:
        print(f"ssot-bot migrate: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"ssot-bot migrate: schema version {version}")
    return 0

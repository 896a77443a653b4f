"""``ssot-bot serve``: run the webhook service until SIGTERM / SIGINT, then drain gracefully."""

from __future__ import annotations

import argparse
import gc
import logging
import sys

from aiohttp import web

from bot import logs
from bot.config.loader import bundled_config
from bot.handlers import router
from bot.service.app import create_app
from bot.service.context import Bot
from bot.settings import SettingsError, load_settings

log = logging.getLogger(__name__)


def serve_main(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
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
    app = create_app(Bot(settings), router)
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
    # aiohttp turns SIGTERM/SIGINT into a graceful shutdown: on_cleanup drains the job queue.
    web.run_app(app, host=host, port=port, print=None, access_log=None, shutdown_timeout=30.0)
    return 0

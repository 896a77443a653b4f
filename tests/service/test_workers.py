"""The service's engine workers (bot/service/workers.py): the event loop waits for the pool."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from bot.engine.pool import budget_message
from bot.service.metrics import Metrics
from bot.service.workers import EngineWorkers
from tests.engine.test_pool import budget_config, files


async def test_a_file_past_its_budget_is_reported_and_nothing_is_left_unretrieved() -> None:
    """A file stopped past its budget is an error in the results; the wrappers the loop waited
    on hold no exception nobody read (asyncio logged one, when collected, for each such file:
    "Future exception was never retrieved")."""
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    workers = EngineWorkers(1, concurrency=1, memory_mb=None, metrics=Metrics())
    try:
        results = await workers.analyse(files(), budget_config(1.0))
    finally:
        await workers.close()
    hostile = results[1]
    assert hostile.error is not None and hostile.error.message == budget_message(1.0)
    gc.collect()
    await asyncio.sleep(0)
    loop.set_exception_handler(None)
    assert [c.get("message") for c in reported] == []

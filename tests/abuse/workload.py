"""Functions the engine's worker processes run in the fairness tests (imported by name there)."""

from __future__ import annotations

import time


def sleeper(seconds: float, tag: str) -> str:
    time.sleep(seconds)
    return tag


def sleepers(calls: list[tuple[float, str]]) -> list[str]:
    """:func:`sleeper` for each call, in one task (``EnginePool.submit_group``)."""
    return [sleeper(*call) for call in calls]

"""What GitHub's rate-limit headers said last, per installation, and how fast background work
may go on (docs/behaviour.md §12: the catch-up pass is paced under the rate limit).

Every GitHub answer carries ``x-ratelimit-limit``, ``x-ratelimit-remaining`` and
``x-ratelimit-reset`` (epoch seconds) for the credential's bucket; an installation's tokens
share one bucket. :class:`RateLimits` keeps the latest of them per installation (fed by the
client's ``on_response`` hook); :func:`pace` turns one reading into a delay or a stop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["STOP", "RateLimits", "RateReading", "pace"]

STOP = float("inf")  # pace(): do not spend more of this bucket before it resets
LOW_FRACTION = 0.1  # under this share of a limit left, analyses wait for the reset (§14)


@dataclass(frozen=True, slots=True)
class RateReading:
    limit: int
    remaining: int
    reset: float  # epoch seconds when the bucket refills


def _int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.title())
    if value is None or not str(value).strip().isdigit():
        return None
    return int(str(value).strip())


def pace(reading: RateReading | None, now: float, *, cost: int = 1,
         reserve_fraction: float = 0.1, reserve_min: int = 100,
         max_delay: float = 30.0) -> float:
    """Seconds to wait before the next background request, or :data:`STOP`.

    - unknown, or the bucket has reset since: no wait;
    - at least half the limit left: no wait (webhooks and a pass both fit);
    - below that: spread what is left above a reserve (``reserve_fraction`` of the limit, at
      least ``reserve_min``, kept for webhooks) evenly until the reset;
    - at or under the reserve, or a wait over ``max_delay``: stop until the next pass.

    ``cost``: requests the next step will make (an analysis makes a dozen or more).
    """
    if reading is None or reading.reset <= now:
        return 0.0
    reserve = max(reserve_min, int(reading.limit * reserve_fraction))
    remaining = reading.remaining - max(0, cost - 1)
    if remaining >= max(reading.limit // 2, reserve + 1):
        return 0.0
    spare = remaining - reserve
    if spare <= 0:
        return STOP
    delay = (reading.reset - now) / spare
    return STOP if delay > max_delay else delay


class RateLimits:
    """The latest rate-limit reading per installation (key: its id as text)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._readings: dict[str, RateReading] = {}
        self.clock = clock

    def observe(self, installation: str | None, url: str, headers: Mapping[str, str]) -> None:
        """One answer. App-JWT calls (``/app...``) use the App's own bucket: not counted."""
        if installation is None or not headers or "/app/" in url or url.endswith("/app"):
            return
        limit = _int(headers, "x-ratelimit-limit")
        remaining = _int(headers, "x-ratelimit-remaining")
        reset = _int(headers, "x-ratelimit-reset")
        if limit is None or remaining is None or reset is None:
            return
        resource = str(headers.get("x-ratelimit-resource") or "core")
        key = installation if resource == "core" else f"{installation}:{resource}"
        self._readings[key] = RateReading(limit, remaining, float(reset))
        if len(self._readings) > 10_000:  # bounded: forget the oldest installations
            del self._readings[next(iter(self._readings))]

    def reading(self, installation: str) -> RateReading | None:
        """The latest REST (``core``) reading of ``installation``."""
        return self._readings.get(installation)

    def low_until(self, installation: str, *, fraction: float = LOW_FRACTION) -> float | None:
        """When ``installation`` has less than ``fraction`` of a limit left (REST or GraphQL,
        GitHub keeps a bucket for each), the epoch second that bucket resets; else None
        (docs/behaviour.md §14: analyses wait for the reset instead of failing)."""
        now = self.clock()
        resets = [
            r.reset for key in (installation, f"{installation}:graphql")
            if (r := self._readings.get(key)) is not None
            and r.reset > now and r.remaining < r.limit * fraction
        ]
        return max(resets) if resets else None

    def delay(self, installation: str, cost: int = 1) -> float:
        """:func:`pace` for ``installation``'s latest reading, now."""
        return pace(self.reading(installation), self.clock(), cost=cost)

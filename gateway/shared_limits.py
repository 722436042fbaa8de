"""Rate limits and remembered values that hold for every instance sharing a store.

A limit is `limit` units per `per_seconds`, as a token bucket that starts full: kept as the
generic cell rate algorithm (GCRA), whose whole state per key is one number, the theoretical
arrival time `tat` of the next unit. Taking a unit moves `tat` on by `per_seconds / limit`; it is
allowed while `tat` stays within `per_seconds` of now. Being one number is what lets PostgreSQL
(`storage/pg_limits.py`) and Redis (`redis_limits.py`) keep it for all instances in one atomic
statement or script; `MemoryLimits` here keeps it for one process (SQLite, tests).

`peek` says whether a unit could be taken without taking it (count only what succeeded: peek,
act, then take). `take(..., max_wait=w)` also reserves a unit that frees within `w` seconds: the caller then waits
`grant.wait` and goes (a send throttle), instead of being refused (a flood guard).

Where the shared store cannot be reached, a limit lets the unit through and logs it: a rate
limit must not stop ingest (the messages themselves are deduplicated by the store).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)

MAX_KEYS = 100_000  # keys kept in memory; the least recently used is forgotten first


@dataclass(frozen=True, slots=True)
class Grant:
    taken: bool
    wait: float = 0.0  # taken: seconds until the reserved unit may be used; refused: until one frees


def next_arrival(tat: float, now: float, *, limit: float, per_seconds: float,
                 max_wait: float) -> tuple[Grant, float | None]:
    """The grant for one more unit, and the new `tat` if it is taken (None if refused)."""
    interval = per_seconds / limit
    new_tat = max(tat, now) + interval
    wait = (max(tat, now) - now) + (interval - per_seconds)  # in this order: no rounding noise at 0
    if wait > max_wait:
        return Grant(False, wait), None
    return Grant(True, max(0.0, wait)), new_tat


class MemoryLimits:
    """Limits and remembered values of this process only."""

    shared = False

    def __init__(self, *, capacity: int = MAX_KEYS, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.clock = clock
        self._arrivals: OrderedDict[str, float] = OrderedDict()
        self._values: OrderedDict[str, tuple[float, str]] = OrderedDict()  # key -> (expires, value)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def take(self, key: str, *, limit: float, per_seconds: float, max_wait: float = 0.0) -> Grant:
        return self.take_now(key, limit=limit, per_seconds=per_seconds, max_wait=max_wait)

    def take_now(self, key: str, *, limit: float, per_seconds: float, max_wait: float = 0.0) -> Grant:
        now = self.clock()
        tat = self._arrivals.pop(key, now)
        grant, new_tat = next_arrival(tat, now, limit=limit, per_seconds=per_seconds, max_wait=max_wait)
        if new_tat is not None:
            tat = new_tat
        if tat > now:  # a key whose bucket is full again is the same as no key
            self._arrivals[key] = tat
            if len(self._arrivals) > self.capacity:
                self._arrivals.popitem(last=False)
        return grant

    async def peek(self, key: str, *, limit: float, per_seconds: float) -> Grant:
        now = self.clock()
        grant, _ = next_arrival(self._arrivals.get(key, now), now, limit=limit, per_seconds=per_seconds, max_wait=0)
        return grant

    async def remember(self, key: str, value: str, *, ttl: float) -> str:
        now = self.clock()
        while self._values and (len(self._values) >= self.capacity or next(iter(self._values.values()))[0] < now):
            self._values.popitem(last=False)
        held = self._values.get(key)
        if held is not None and held[0] >= now:
            return held[1]
        self._values[key] = (now + ttl, value)
        return value

    @property
    def tracked(self) -> int:
        return len(self._arrivals)


class SharedLimitsBackend(Protocol):
    @property
    def shared(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def take(self, key: str, *, limit: float, per_seconds: float, max_wait: float = 0.0) -> Grant: ...

    async def peek(self, key: str, *, limit: float, per_seconds: float) -> Grant: ...

    async def remember(self, key: str, value: str, *, ttl: float) -> str: ...


class FailOpen:
    """A backend whose store cannot be reached lets every unit through and keeps no value, with
    a warning at most every `quiet` seconds: traffic keeps flowing while the store is away."""

    def __init__(self, backend: SharedLimitsBackend, *, quiet: float = 60.0) -> None:
        self.backend = backend
        self.quiet = quiet
        self.failures = 0
        self._warned_at = -quiet

    @property
    def shared(self) -> bool:
        return self.backend.shared

    async def start(self) -> None:
        await self.backend.start()

    async def stop(self) -> None:
        await self.backend.stop()

    async def take(self, key: str, *, limit: float, per_seconds: float, max_wait: float = 0.0) -> Grant:
        try:
            return await self.backend.take(key, limit=limit, per_seconds=per_seconds, max_wait=max_wait)
        except Exception as error:  # whatever the driver raises: the limit is not worth an outage
            self._failed("take", error)
            return Grant(True)

    async def peek(self, key: str, *, limit: float, per_seconds: float) -> Grant:
        try:
            return await self.backend.peek(key, limit=limit, per_seconds=per_seconds)
        except Exception as error:
            self._failed("peek", error)
            return Grant(True)

    async def remember(self, key: str, value: str, *, ttl: float) -> str:
        try:
            return await self.backend.remember(key, value, ttl=ttl)
        except Exception as error:
            self._failed("remember", error)
            return value

    def _failed(self, what: str, error: Exception) -> None:
        self.failures += 1
        if time.monotonic() - self._warned_at >= self.quiet:
            self._warned_at = time.monotonic()
            log.warning("shared limits unreachable; letting traffic through", operation=what,
                        error=type(error).__name__, failures=self.failures)

"""Client-side rate limiting for one account: a steady pace, and a pause when the platform says 429."""

from __future__ import annotations

import asyncio
import time

from csgw.gateway.ports import Limits
from csgw.gateway.shared_limits import MemoryLimits


class Throttle:
    """Spaces calls `1 / per_second` apart, counted for every instance when `limits` is the
    cluster's (`services.limits`); `hold(seconds)` stops this instance's calls for a while (the
    others pause when the platform tells them too)."""

    def __init__(self, per_second: float, *, max_wait: float = 2.0, limits: Limits | None = None,
                 key: str = "send") -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.max_wait = max_wait
        self.limits: Limits = limits if limits is not None else MemoryLimits()
        self.key = key
        self._held_until = 0.0

    def hold(self, seconds: float) -> None:
        self._held_until = max(self._held_until, time.monotonic() + seconds)

    def held_for(self) -> float:
        return max(0.0, self._held_until - time.monotonic())

    async def slot(self) -> bool:
        """Wait for the next slot; False (without waiting) when that is more than `max_wait` away."""
        held = self.held_for()
        if held > self.max_wait:
            return False
        if self.interval == 0:
            wait = held
        else:
            grant = await self.limits.take(self.key, limit=1, per_seconds=self.interval, max_wait=self.max_wait - held)
            if not grant.taken:
                return False
            wait = held + grant.wait
        if wait > 0:
            await asyncio.sleep(wait)
        return True

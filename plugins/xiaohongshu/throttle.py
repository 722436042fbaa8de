"""Client-side rate limiting for one account: a steady pace, and a pause when the platform says 429."""

from __future__ import annotations

import asyncio
import time


class Throttle:
    """Spaces calls `1 / per_second` apart; `hold(seconds)` stops all calls for a while."""

    def __init__(self, per_second: float, *, max_wait: float = 2.0) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.max_wait = max_wait
        self._next = 0.0
        self._held_until = 0.0
        self._lock = asyncio.Lock()

    def hold(self, seconds: float) -> None:
        self._held_until = max(self._held_until, time.monotonic() + seconds)

    def held_for(self) -> float:
        return max(0.0, self._held_until - time.monotonic())

    async def slot(self) -> bool:
        """Wait for the next slot; False (without waiting) when that is more than `max_wait` away."""
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next, self._held_until)
            if start - now > self.max_wait:
                return False
            self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)
        return True

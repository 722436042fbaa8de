"""The pull fallback: a periodic fetch of messages since a stored cursor fills the gaps lost pushes
and downtime leave. The cursor is saved only after its page is stored; dedupe drops what a push brought.

With several instances on one store only one pulls: the one leading `poll:xiaohongshu:<account>`
(`gateway/leadership.py`). The others wait, and one takes over, from the stored cursor, once the
leader is gone. Pushes are taken by every instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from csgw.gateway.channel import SendError
from csgw.gateway.connection_stats import ConnectionStats
from csgw.gateway.leadership import poll_role, while_leading
from csgw.gateway.messages import InboundMessage
from csgw.gateway.ports import Cursors, Leadership
from csgw.plugins.xiaohongshu.api import XiaohongshuApi

CURSOR_KEY = "pull_cursor"
SYNCED_AT_KEY = "pull_synced_at"  # Unix time everything before which has been stored
STOP_GRACE = 5.0

Handle = Callable[[dict[str, Any]], Awaitable[InboundMessage | None]]


class MessagePuller:
    def __init__(
        self, api: XiaohongshuApi, handle: Handle, *, cursors: Cursors, channel: str, account: str,
        interval: float, limit: int, stats: ConnectionStats, log: Any, leadership: Leadership,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api = api
        self.handle = handle
        self.cursors = cursors
        self.where = (channel, account)
        self.interval = interval
        self.limit = limit
        self.stats = stats
        self.log = log
        self.clock = clock
        self.leadership = leadership
        self.leading = False  # this instance pulls (it leads the account's poll role)
        self.synced_to: float | None = None
        self.runs = 0  # pull runs finished, successful or not
        self._done = asyncio.Condition()
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Pull now and every interval wherever this instance leads the account's poll role."""
        self._task = asyncio.create_task(
            while_leading(self.leadership, poll_role(*self.where), self._loop, stopping=self._stop,
                          on_change=self._leading),
            name=f"xiaohongshu-pull:{self.where[1]}")

    def _leading(self, leading: bool) -> None:
        self.leading = leading

    async def stop(self) -> None:
        self._stop.set()
        if self._task is None:
            return
        # let a page being stored finish; a pull stuck on a slow platform is cancelled
        done, _ = await asyncio.wait({self._task}, timeout=STOP_GRACE)
        if not done:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def lag_seconds(self) -> float | None:
        """How far behind now the stored messages are known to be complete; None before any pull."""
        return None if self.synced_to is None else round(max(0.0, self.clock() - self.synced_to), 3)

    async def wait_runs(self, count: int, timeout: float = 10) -> None:
        """Until `count` pull runs have finished (the first one runs at start)."""
        async def reached() -> None:
            async with self._done:
                await self._done.wait_for(lambda: self.runs >= count)

        await asyncio.wait_for(reached(), timeout)

    async def run_once(self) -> bool:
        """One pull run whose failure goes to the channel's health instead of raising; True if it ended well."""
        try:
            await self.pull()
            ok = True
        except SendError as exc:
            self.stats.failure(f"pull: {exc}", exc.code)
            self.log.warning("xiaohongshu.pull_failed", code=exc.code, error=str(exc), lag=self.lag_seconds())
            ok = False
        except Exception as exc:  # noqa: BLE001 - recorded and logged; the next pull retries
            self.stats.failure(f"pull crashed: {exc!r}", "crash")
            self.log.exception("xiaohongshu.pull_crashed")
            ok = False
        async with self._done:
            self.runs += 1
            self._done.notify_all()
        return ok

    async def _loop(self) -> None:
        """Load how far the last run got (here or on the instance that pulled before), then pull
        now, catching up on downtime, and every interval."""
        stored = await self.cursors.get(*self.where, SYNCED_AT_KEY)
        self.synced_to = float(stored) if stored else None
        while not self._stop.is_set():
            await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)

    async def pull(self) -> int:
        """Pull pages until the platform has no more; the number of messages seen."""
        async with self._lock:
            started = self.clock()
            cursor = await self.cursors.get(*self.where, CURSOR_KEY)
            seen = 0
            while True:
                messages, next_cursor, has_more = await self.api.pull(cursor, self.limit)
                newest = None
                for message in messages:
                    inbound = await self.handle(message)
                    if inbound is not None and inbound.platform_ts is not None:
                        newest = max(newest or 0.0, inbound.platform_ts.timestamp())
                seen += len(messages)
                if next_cursor and next_cursor != cursor:
                    await self.cursors.set(*self.where, CURSOR_KEY, next_cursor)
                    cursor = next_cursor
                if newest is not None:
                    await self._synced(min(newest, started))
                if not has_more or not next_cursor or self._stop.is_set():
                    break
            if not has_more:
                await self._synced(started)
            self.stats.success()
            self.log.info("xiaohongshu.pulled", messages=seen, lag=self.lag_seconds())
        return seen

    async def _synced(self, at: float) -> None:
        if self.synced_to is None or at > self.synced_to:
            self.synced_to = at
            await self.cursors.set(*self.where, SYNCED_AT_KEY, repr(at))

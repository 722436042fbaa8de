"""Asks gathered in memory and recorded together: one writer job per `FLUSH_SECONDS`, or as soon as
`FLUSH_ASKS` are waiting, instead of one job (and one count of the incident's askers) per ask.

What a crash may lose: an ask count, never a message. The asks of the last `FLUSH_SECONDS` before
a kill -9 are not recorded; the messages they came from and their answers are in the core's own
commits, untouched. The incident's count then misses those customers until they ask again, and an
incident near its threshold opens at a later ask. A stop records what is waiting (`stop`).
Counting stays right across instances: a gathering is recorded by `plans.record_asks`, which locks
each topic it counts, whatever the number of asks in it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from .plans import Counting

FLUSH_SECONDS = 1.0  # asks wait in memory at most this long (what kill -9 may lose)
FLUSH_ASKS = 500  # …or until this many are waiting


class GatheredAsks:
    """Asks waiting to be recorded; `record` writes one gathering (in one writer job)."""

    def __init__(self, record: Callable[[list[Counting]], Coroutine[Any, Any, None]], *, seconds: float = FLUSH_SECONDS,
                 size: int = FLUSH_ASKS) -> None:
        self._record = record
        self.seconds = seconds
        self.size = size
        self._waiting: list[Counting] = []
        self._timer: asyncio.TimerHandle | None = None
        self._recording: set[asyncio.Task[None]] = set()

    def add(self, items: list[Counting]) -> None:
        self._waiting.extend(items)
        if len(self._waiting) >= self.size:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.seconds, self.flush)

    def flush(self) -> None:
        """Record what is waiting now (off the caller's path)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._waiting:
            return
        items, self._waiting = self._waiting, []
        task = asyncio.create_task(self._record(items))
        self._recording.add(task)
        task.add_done_callback(self._recording.discard)

    async def drain(self) -> None:
        """Record what is waiting and wait until it is (tests)."""
        self.flush()
        while self._recording:
            await asyncio.gather(*list(self._recording), return_exceptions=True)

    async def stop(self) -> None:
        """A stop: record what is waiting; from now on each ask at once (the answers of the stop's
        last messages are counted while the writer still takes jobs, not a second later)."""
        self.size = 1
        await self.drain()

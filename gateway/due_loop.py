"""The loop behind a queue of due rows (the outbox, a plugin's deliveries): each pass starts what
is due, as tasks of its own, and says how long until the next row is; `wake()` makes the next
pass come at once; `stop()` ends the loop and waits for the tasks passes started.

A pass that fails (the store cannot be read) is tried again after a doubling back-off that wakes
do not cut short: every new reply wakes the outbox, and a failing store must not be hammered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class DueLoop:
    """Subclasses write `run_pass`; it starts work with `spawn`."""

    def __init__(self, name: str, *, backoff: float = 0.5, backoff_cap: float = 30.0) -> None:
        self.name = name
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.stopping = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._started: set[asyncio.Task[None]] = set()

    async def run_pass(self) -> float:
        """Start what is due; seconds until the next pass."""
        raise NotImplementedError

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `work` beside the loop; `stop` waits for it."""
        task = asyncio.create_task(work)
        self._started.add(task)
        task.add_done_callback(self._started.discard)
        return task

    async def stop(self) -> None:
        """End after the pass under way, once the work passes started has finished."""
        self.stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._started:
            await asyncio.gather(*self._started, return_exceptions=True)

    async def _run(self) -> None:
        failures = 0
        while not self.stopping:
            self._wake.clear()
            try:
                delay = await self.run_pass()
                failures = 0
            except Exception as error:
                failures += 1
                if failures == 1:
                    log.exception("pass failed", loop=self.name)
                else:
                    log.warning("pass failed again", loop=self.name, failures=failures, error=repr(error))
            if self.stopping:
                break
            if failures:
                await self._back_off(min(self.backoff_cap, self.backoff * 2 ** min(failures - 1, 10)))
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def _back_off(self, seconds: float) -> None:
        """Wait `seconds` whatever wakes the loop, unless it is stopping."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.stopping and (left := deadline - loop.time()) > 0:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=left)

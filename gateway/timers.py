"""Periodic jobs plugins run while a gateway is up (offers, waits, waiting limits): each gateway
owns its timers and stops them when it stops, so no plugin keeps a registry of its own.

A job runs once per tick among the instances sharing a store: each tick, the instance asks to
lead the role `timer:<name>` (`gateway/leadership.py`) and runs the job only if it does. A
follower asks again at its next tick, so when the leader dies another instance takes the timer
over within one tick of PostgreSQL freeing the lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from csgw.gateway.ports import Leadership

log = structlog.get_logger(__name__)


class Ticker:
    """One job run every `every` seconds where this instance leads `timer:<name>` (always, without
    a `leadership`); a failing run is logged and the next tick retries."""

    def __init__(self, name: str, job: Callable[[], Awaitable[None]], every: float,
                 leadership: Leadership | None = None) -> None:
        self.name, self.job, self.every = name, job, every
        self.leadership = leadership
        self.role = f"timer:{name}"
        self.leading: bool | None = None  # at the last tick; None before the first
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"csgw-{self.name}")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None
        if self.leadership is not None:
            await self.leadership.resign(self.role)

    async def _leads(self) -> bool:
        leading = self.leadership is None or await self.leadership.try_lead(self.role)
        if leading != self.leading and self.leadership is not None and self.leadership.shared:
            log.info("timer leads here" if leading else "timer runs on another instance", timer=self.name)
        self.leading = leading
        return leading

    async def _run(self) -> None:
        while True:
            try:
                if await self._leads():
                    await self.job()
            except Exception:
                log.exception("timer failed; the next tick retries", timer=self.name)
            await asyncio.sleep(self.every)


class Timers:
    """A gateway's tickers: plugins add theirs in `csgw_startup`, the gateway stops them all first
    thing when it stops (before `csgw_shutdown`), handing their roles back."""

    def __init__(self, leadership: Leadership | None = None) -> None:
        self.leadership = leadership
        self._tickers: dict[str, Ticker] = {}

    def every(self, name: str, job: Callable[[], Awaitable[None]], seconds: float) -> Ticker:
        """Run `job` now and then every `seconds`; a name already running is replaced."""
        previous = self._tickers.pop(name, None)
        if previous is not None and previous.task is not None:
            previous.task.cancel()
        ticker = Ticker(name, job, seconds, self.leadership)
        self._tickers[name] = ticker
        ticker.start()
        return ticker

    async def stop(self) -> None:
        tickers, self._tickers = list(self._tickers.values()), {}
        for ticker in tickers:
            await ticker.stop()

"""Periodic jobs plugins run while a gateway is up (offers, waits, waiting limits): each gateway
owns its timers and stops them when it stops, so no plugin keeps a registry of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


class Ticker:
    """One job run every `every` seconds; a failing run is logged and the next tick retries."""

    def __init__(self, name: str, job: Callable[[], Awaitable[None]], every: float) -> None:
        self.name, self.job, self.every = name, job, every
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"csgw-{self.name}")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            self.task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.job()
            except Exception:
                log.exception("timer failed; the next tick retries", timer=self.name)
            await asyncio.sleep(self.every)


class Timers:
    """A gateway's tickers: plugins add theirs in `csgw_startup`, the gateway stops them all first
    thing when it stops (before `csgw_shutdown`)."""

    def __init__(self) -> None:
        self._tickers: dict[str, Ticker] = {}

    def every(self, name: str, job: Callable[[], Awaitable[None]], seconds: float) -> Ticker:
        """Run `job` now and then every `seconds`; a name already running is replaced."""
        previous = self._tickers.pop(name, None)
        if previous is not None and previous.task is not None:
            previous.task.cancel()
        ticker = Ticker(name, job, seconds)
        self._tickers[name] = ticker
        ticker.start()
        return ticker

    async def stop(self) -> None:
        tickers, self._tickers = list(self._tickers.values()), {}
        for ticker in tickers:
            await ticker.stop()

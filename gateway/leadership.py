"""Work that must happen once per cluster, not once per instance: timers, pollers, token fetches.

Each such duty is a named role. Among the instances sharing one store, one leads each role at a
time; the others follow and try again every `retry_seconds`. On PostgreSQL a role is a session
advisory lock on a connection of its own (`gateway/storage/pg_leadership.py`): when the leader
dies its connection closes, PostgreSQL frees the lock, and the next follower to try takes it. On
SQLite one process owns the store, so it leads every role (`SoloLeadership`).

`while_leading` runs a long-lived loop (a poller) only while this instance leads its role, and
stops it at once when leadership is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from csgw.gateway.ports import Leadership

log = structlog.get_logger(__name__)

DEFAULT_RETRY_SECONDS = 5.0


def poll_role(plugin: str, account: str) -> str:
    """The role of the one instance that pulls from a channel account's platform."""
    return f"poll:{plugin}:{account}"


class SoloLeadership:
    """One process on its own store (SQLite): it leads every role, always."""

    shared = False

    def __init__(self, retry_seconds: float = DEFAULT_RETRY_SECONDS) -> None:
        self.retry_seconds = retry_seconds
        self._stopped = asyncio.Event()

    def leads(self, role: str) -> bool:
        return True

    async def try_lead(self, role: str) -> bool:
        return True

    async def lost(self, role: str) -> None:
        await self._stopped.wait()

    async def resign(self, role: str) -> None:
        """Nothing to hand over: there is no other instance."""

    async def stop(self) -> None:
        self._stopped.set()


async def _wait(event: asyncio.Event | None, seconds: float) -> None:
    """`seconds`, or less if `event` is set meanwhile."""
    if event is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


async def _until_lost(leadership: Leadership, role: str, task: asyncio.Task[None]) -> bool:
    """True once `task` ends; False as soon as this instance no longer leads `role`. The role
    is re-checked every `retry_seconds`, so a connection that hangs is noticed, not only one
    that closes."""
    lost = asyncio.ensure_future(leadership.lost(role))
    try:
        while True:
            done, _ = await asyncio.wait({task, lost}, timeout=leadership.retry_seconds,
                                         return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                return True
            if lost in done or not await leadership.try_lead(role):
                return False
    finally:
        lost.cancel()


async def _cancel(task: asyncio.Task[None]) -> None:
    if not task.done():
        task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def while_leading(
    leadership: Leadership, role: str, work: Callable[[], Awaitable[None]], *,
    stopping: asyncio.Event | None = None, on_change: Callable[[bool], None] | None = None,
) -> None:
    """Run `work()` whenever this instance leads `role`, until `work` returns or `stopping` is set.

    A follower tries every `retry_seconds`. When leadership is lost `work` is cancelled and the
    instance follows again, trying from the next `retry_seconds` on. When `work` returns, or this coroutine is cancelled, the role is
    handed back so another instance takes it at its next try; a `work` that fails is logged,
    handed back and started again at a later lead. `on_change(True/False)` hears each change.
    """
    while stopping is None or not stopping.is_set():
        if not await leadership.try_lead(role):
            await _wait(stopping, leadership.retry_seconds)
            continue
        log.info("leading", role=role)
        if on_change is not None:
            on_change(True)
        task = asyncio.ensure_future(work())
        try:
            finished = await _until_lost(leadership, role, task)
        except asyncio.CancelledError:
            await _cancel(task)
            await leadership.resign(role)
            raise
        finally:
            await _cancel(task)  # ended already, unless leadership was lost or we are cancelled
            if on_change is not None:
                on_change(False)
        if not finished:
            log.warning("leadership lost, following", role=role)
            await _wait(stopping, leadership.retry_seconds)  # others may take it meanwhile
            continue
        await leadership.resign(role)
        error = task.exception() if not task.cancelled() else None
        if error is None:
            return
        log.error("leader's work failed; handed over", role=role, error=repr(error), exc_info=error)
        await _wait(stopping, leadership.retry_seconds)

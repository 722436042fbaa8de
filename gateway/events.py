"""The event bus: the pipeline publishes, agent event sockets and plugins subscribe; with several
instances on one store, events also travel between them over `gateway/bus.py`.

Subscribers read a bounded queue and are dropped when they fall behind (a socket gone quiet).
Observers (`observe`) are called in place for each event published on this instance, never
dropped and never for what other instances relay: each event reaches them once in the cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog

log = structlog.get_logger(__name__)

Event = dict[str, Any]


class EventBus:
    """`relay`, when instances share the store, sends each event published here to the others;
    what they relay arrives through `deliver`."""

    def __init__(self, queue_size: int = 1000, relay: Callable[[Event], None] | None = None) -> None:
        self.queue_size = queue_size
        self.relay = relay
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self._observers: list[Callable[[Event], None]] = []

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        event = {"type": kind, "data": data}
        for observer in self._observers:
            try:
                observer(event)
            except Exception:  # an observer's bug must not fail the publisher's work
                log.exception("event observer failed", kind=kind)
        self._fan_out(event)
        if self.relay is not None:
            self.relay(event)

    async def deliver(self, event: Event) -> None:
        """An event another instance published."""
        self._fan_out(event)

    def _fan_out(self, event: Event) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A subscriber that stopped reading is dropped rather than slowing everyone.
                self._subscribers.discard(queue)
                queue.put_nowait({"type": "overflow", "data": {}}) if queue.empty() else None
                log.warning("event subscriber too slow, dropped")

    def close(self) -> None:
        """Tell every subscriber the gateway is stopping (they end their sockets)."""
        for queue in list(self._subscribers):
            try:
                queue.put_nowait({"type": "shutdown", "data": {}})
            except asyncio.QueueFull:
                pass

    def observe(self, observer: Callable[[Event], None]) -> None:
        """Call `observer(event)` synchronously for every event published on this instance from
        now on; it must return at once (queue its work, never await)."""
        self._observers.append(observer)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self.queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def listening(self) -> bool:
        """Whether anyone subscribes (here, or maybe on another instance): publishers skip
        building views nobody would read."""
        return bool(self._subscribers or self._observers) or self.relay is not None

"""The bus between instances sharing one store: what one instance publishes, every instance's
subscribers get — agent events, widget frames for a visitor whose socket another instance holds.

Local subscribers are called at once, in the publisher's task. Copies for the other instances go
out in publishing order through one sender task, over a transport: PostgreSQL's LISTEN/NOTIFY
(`gateway/storage/pg_bus.py`) or Redis pub/sub (`gateway/redis_bus.py`). A single process on
SQLite has no transport: the bus is local only. A copy that arrives from the transport is handed
to local subscribers only; an instance ignores its own copies.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import structlog

log = structlog.get_logger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[str, str, dict[str, Any]], Awaitable[None]]  # origin, topic, data


class Transport(Protocol):
    async def start(self, receive: Receive) -> None: ...

    async def send(self, origin: str, topic: str, data: dict[str, Any]) -> None: ...

    async def stop(self) -> None: ...


class Bus:
    def __init__(self, origin: str, transport: Transport | None = None, queue_size: int = 10_000) -> None:
        self.origin = origin
        self.transport = transport
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._outgoing: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(queue_size)
        self._sender: asyncio.Task[None] | None = None

    @property
    def shared(self) -> bool:
        """Whether other instances may be listening."""
        return self.transport is not None

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._handlers[topic].append(handler)

    async def publish(self, topic: str, data: dict[str, Any]) -> None:
        """Every subscriber of `topic`, here now and on the other instances soon after."""
        await self._deliver(topic, data)
        self.relay(topic, data)

    def relay(self, topic: str, data: dict[str, Any]) -> None:
        """Only to the other instances (for a publisher that already served its own subscribers)."""
        if self.transport is None:
            return
        try:
            self._outgoing.put_nowait((topic, data))
        except asyncio.QueueFull:
            log.error("bus backlog full, message dropped", topic=topic)

    async def start(self) -> None:
        if self.transport is None:
            return
        await self.transport.start(self._received)
        self._sender = asyncio.create_task(self._send_in_order(self.transport), name="csgw-bus-sender")

    async def stop(self) -> None:
        if self._sender is not None:
            await self._outgoing.join()  # what was published before stopping still goes out
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        if self.transport is not None:
            await self.transport.stop()

    async def _send_in_order(self, transport: Transport) -> None:
        while True:
            topic, data = await self._outgoing.get()
            try:
                await transport.send(self.origin, topic, data)
            except Exception as error:  # the transport reconnects on its own; this copy is lost
                log.warning("bus send failed", topic=topic, error=repr(error))
            finally:
                self._outgoing.task_done()

    async def _received(self, origin: str, topic: str, data: dict[str, Any]) -> None:
        if origin != self.origin:
            await self._deliver(topic, data)

    async def _deliver(self, topic: str, data: dict[str, Any]) -> None:
        for handler in list(self._handlers.get(topic, ())):
            try:
                await handler(data)
            except Exception:
                log.exception("bus subscriber failed", topic=topic)

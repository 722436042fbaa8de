"""The narrow interfaces plugins are handed: what they may use of a running gateway, nothing more.

`GatewayServices` satisfies `Gateway`; plugins and their type checkers see only this Protocol.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import aiohttp
    from structlog.typing import FilteringBoundLogger

    from csgw.config.schema import Settings
    from csgw.gateway.channel import Accepted, Channel, InboundMessage
    from csgw.gateway.conversations import ConversationService


class Cursors(Protocol):
    """Small durable key/value state per channel account (a pull channel's sync position)."""

    async def get(self, channel: str, account: str, key: str) -> str | None: ...

    async def set(self, channel: str, account: str, key: str, value: str) -> None: ...


class Events(Protocol):
    """The in-process event bus agent sockets read: `{"type": kind, "data": {...}}` events."""

    @property
    def listening(self) -> bool: ...

    def publish(self, kind: str, data: dict[str, Any]) -> None: ...

    def subscribe(self) -> AbstractAsyncContextManager[asyncio.Queue[dict[str, Any]]]: ...


class Gateway(Protocol):
    """The running gateway as hooks (`services`) and channels see it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def log(self) -> FilteringBoundLogger: ...

    @property
    def http(self) -> aiohttp.ClientSession | None:
        """A shared client session for calls to platforms; None before start and after stop."""

    @property
    def events(self) -> Events: ...

    @property
    def conversations(self) -> ConversationService: ...

    @property
    def cursors(self) -> Cursors: ...

    async def accept(self, inbound: InboundMessage, *, wait_reply: float | None = None) -> Accepted:
        """Store an inbound message durably (deduplicated by `external_id` per account) and answer
        it; returns once it is durable (with the replies, if `wait_reply` seconds sufficed)."""
        ...

    def channel(self, plugin: str, account: str) -> Channel | None:
        """The running channel of one `[[channels]]` entry, if it is enabled."""
        ...

"""Helpers for the e-mail channel tests: a stand-in for the gateway's services and mail builders."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import aioimaplib
import structlog

from csgw.gateway.channel import Accepted, InboundMessage
from csgw.gateway.leadership import SoloLeadership
from csgw.gateway.ports import Leadership
from csgw.gateway.shared_limits import MemoryLimits


class MemoryCursors:
    """The gateway's `cursors` interface over a dict; one instance survives a channel restart."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str], str] = {}

    async def get(self, channel: str, account: str, key: str) -> str | None:
        return self.values.get((channel, account, key))

    async def set(self, channel: str, account: str, key: str, value: str) -> None:
        assert len(key) <= 128, key
        self.values[(channel, account, key)] = value


class StandInServices:
    """What the channel uses of `GatewayServices`: accept (deduplicating), cursors, log, data_dir,
    leadership (alone by default; a shared one plays an instance among several)."""

    def __init__(self, data_dir: Path, cursors: MemoryCursors | None = None,
                 leadership: Leadership | None = None) -> None:
        self.data_dir = data_dir
        self.cursors = cursors or MemoryCursors()
        self.leadership = leadership or SoloLeadership()
        self.limits = MemoryLimits()
        self.log = structlog.get_logger("tests.email")
        self.accepted: list[InboundMessage] = []  # every call, duplicates included
        self.stored: dict[str, InboundMessage] = {}
        self.fail_next = 0
        self.attempts = 0
        self._conversations: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()

    async def accept(self, inbound: InboundMessage) -> Accepted:
        self.attempts += 1
        if self.fail_next:
            self.fail_next -= 1
            async with self._changed:
                self._changed.notify_all()
            raise RuntimeError("database unavailable")
        duplicate = inbound.external_id in self.stored
        self.accepted.append(inbound)
        self.stored.setdefault(inbound.external_id, inbound)
        conversation = self._conversations.setdefault(
            inbound.thread_key, len(self._conversations) + 1
        )
        async with self._changed:
            self._changed.notify_all()
        return Accepted(
            message_id=next(self._ids), conversation_id=conversation, duplicate=duplicate
        )

    def conversation_of(self, inbound: InboundMessage) -> int:
        return self._conversations[inbound.thread_key]

    async def wait_stored(self, count: int, timeout: float = 10.0) -> list[InboundMessage]:
        await self.wait_for(lambda: len(self.stored) >= count, timeout)
        return list(self.stored.values())

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(reached(), timeout)


def build_mail(
    subject: str = "订单什么时候发货？",
    body: str = "你好，我的订单什么时候发货？",
    *,
    sender: str = "customer@example.cn",
    to: str = "support@shop.example",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, bytes]:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = message_id or make_msgid(domain="example.cn")
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail["Message-ID"], mail.as_bytes()


class Mailbox:
    """Delivers mail into the test user's real IMAP mailbox with APPEND, and inspects it."""

    def __init__(self, host: str, port: int, user: str, password: str) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password

    async def _client(self) -> aioimaplib.IMAP4:
        client = aioimaplib.IMAP4(self.host, self.port, timeout=10)
        await client.wait_hello_from_server()
        response = await client.login(self.user, self.password)
        assert response.result == "OK", response
        return client

    async def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        client = await self._client()
        try:
            response = await client.append(raw, mailbox=mailbox)
            assert response.result == "OK", response
        finally:
            await client.logout()

    async def command(self, name: str, *args: str) -> aioimaplib.Response:
        client = await self._client()
        try:
            return await getattr(client, name)(*args)
        finally:
            await client.logout()

    async def flags(self, mailbox: str = "INBOX") -> list[bytes]:
        client = await self._client()
        try:
            await client.select(mailbox)
            response = await client.fetch("1:*", "(FLAGS)")
            return [line for line in response.lines if b"FETCH" in line]
        finally:
            await client.logout()

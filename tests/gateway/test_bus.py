"""The bus between instances: local subscribers at once, other instances in order, long messages
through PostgreSQL's spill table, and a dropped connection reopened."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest
import redis.asyncio as redis

from csgw.gateway.bus import Bus, Transport
from csgw.gateway.redis_bus import RedisTransport
from csgw.gateway.storage.db import close_database, open_database
from csgw.gateway.storage.pg_bus import PostgresTransport
from tests.conftest import POSTGRES_URL, reset_postgres

REDIS_URL = "redis://127.0.0.1:6379/0"


class Inbox:
    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()

    async def __call__(self, data: dict[str, Any]) -> None:
        async with self._changed:
            self.got.append(data)
            self._changed.notify_all()

    async def wait(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.got) >= count)

        await asyncio.wait_for(reached(), timeout)
        return self.got


async def test_a_bus_without_transport_serves_its_own_subscribers_only():
    bus = Bus("solo")
    inbox = Inbox()
    bus.subscribe("t", inbox)
    await bus.start()
    await bus.publish("t", {"n": 1})
    bus.relay("t", {"n": 2})  # nobody else to tell
    await bus.stop()
    assert inbox.got == [{"n": 1}] and not bus.shared


def transports() -> list[str]:
    return ["redis"] + (["postgres"] if POSTGRES_URL else [])


@pytest.fixture(params=transports())
async def make_transport(request) -> AsyncIterator[Callable[[], Transport]]:
    if request.param == "postgres":
        assert POSTGRES_URL
        await reset_postgres(POSTGRES_URL)
        await open_database(POSTGRES_URL)  # the spill table
        yield lambda: PostgresTransport(POSTGRES_URL)
        await close_database()
    else:
        yield lambda: RedisTransport(REDIS_URL)


@pytest.fixture
async def pair(make_transport) -> AsyncIterator[tuple[Bus, Bus]]:
    first, second = Bus("first", make_transport()), Bus("second", make_transport())
    await first.start()
    await second.start()
    yield first, second
    await first.stop()
    await second.stop()


async def test_what_one_instance_publishes_every_instance_gets_once_in_order(pair):
    first, second = pair
    here, there = Inbox(), Inbox()
    first.subscribe("frames", here)
    second.subscribe("frames", there)
    for n in range(50):
        await first.publish("frames", {"n": n, "text": "你好"})
    assert [m["n"] for m in await there.wait(50)] == list(range(50))
    await first.publish("frames", {"n": "last"})
    await there.wait(51)
    assert [m["n"] for m in here.got] == [*range(50), "last"]  # no echo of its own copies


async def test_a_message_longer_than_a_notice_arrives_whole(pair):
    first, second = pair
    there = Inbox()
    second.subscribe("events", there)
    long_text = "长" * 20_000  # 60 kB of UTF-8, far over PostgreSQL's 8 kB notice
    await first.publish("events", {"text": long_text})
    [message] = await there.wait(1)
    assert message == {"text": long_text}


async def drop_listener(bus: Bus) -> None:
    """End the bus's listening connection from outside, as a server restart or a network cut would."""
    transport = bus.transport
    if isinstance(transport, PostgresTransport):
        assert POSTGRES_URL and transport._connection is not None
        admin = await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://", 1))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)",
                                        transport._connection.get_server_pid())
        finally:
            await admin.close()
    else:
        admin = redis.Redis.from_url(REDIS_URL)
        try:
            assert await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub") >= 1
        finally:
            await admin.aclose()


async def test_a_dropped_listener_reconnects(pair):
    first, second = pair
    there = Inbox()
    second.subscribe("t", there)
    await drop_listener(second)

    async def arrives() -> None:
        while not there.got:  # what is published while it reconnects is not replayed: publish until heard
            await first.publish("t", {"after": "reconnect"})
            try:
                await there.wait(1, timeout=0.5)
            except TimeoutError:
                continue

    await asyncio.wait_for(arrives(), timeout=30)
    assert there.got[0] == {"after": "reconnect"}

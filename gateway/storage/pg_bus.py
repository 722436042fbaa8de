"""The bus over PostgreSQL's LISTEN/NOTIFY, on a connection of its own.

A notice holds at most 8 kB: a longer message is written to `bus_spill` and the notice carries
the row's id; rows older than ten minutes are pruned as new ones are written. Notices arrive in
the order they were committed and are handed on in that order. If the connection drops, it is
opened again with back-off; what was published meanwhile is not replayed (agents' consoles and
widgets re-read the store when they reconnect, so nothing the bus carries exists only on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import asyncpg
import structlog

from csgw.gateway.bus import Receive
from csgw.gateway.storage.pg_connect import dedicated_connection

log = structlog.get_logger(__name__)

CHANNEL = "csgw_bus"
NOTIFY_LIMIT = 7_900  # bytes; PostgreSQL refuses a payload of 8,000 or more
SPILL_KEPT = "10 minutes"
RECONNECT_CAP = 10.0


class PostgresTransport:
    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()  # one query at a time on the one connection
        self._inbox: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._receive: Receive | None = None
        self._stopping = False
        self._lost = asyncio.Event()

    async def start(self, receive: Receive) -> None:
        self._receive = receive
        await self._connect()
        self._tasks = [asyncio.create_task(self._hand_on(), name="csgw-bus-inbox"),
                       asyncio.create_task(self._stay_connected(), name="csgw-bus-reconnect")]

    async def send(self, origin: str, topic: str, data: dict[str, Any]) -> None:
        body = json.dumps({"o": origin, "t": topic, "d": data}, ensure_ascii=False, default=str)
        async with self._lock:
            connection = self._live()
            if len(body.encode()) > NOTIFY_LIMIT:
                spill_id = await connection.fetchval(
                    'INSERT INTO "bus_spill" ("payload", "created_at") VALUES ($1, now()) RETURNING "id"', body)
                await connection.execute(
                    f"""DELETE FROM "bus_spill" WHERE "created_at" < now() - interval '{SPILL_KEPT}'""")
                body = json.dumps({"o": origin, "s": spill_id})
            await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, body)

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._connection is not None and not self._connection.is_closed():
            await self._connection.close()

    def _live(self) -> asyncpg.Connection:
        if self._connection is None or self._connection.is_closed():
            raise ConnectionError("the bus connection is down")
        return self._connection

    async def _connect(self) -> None:
        connection = await dedicated_connection(self.url)
        await connection.add_listener(CHANNEL, self._on_notice)
        connection.add_termination_listener(lambda _connection: self._lost.set())
        self._connection = connection
        self._lost.clear()

    def _on_notice(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        self._inbox.put_nowait(str(payload))

    async def _hand_on(self) -> None:
        assert self._receive is not None
        while True:
            body = await self._inbox.get()
            try:
                message = json.loads(body)
                if "s" in message:
                    message = await self._spilled(int(message["s"]))
                    if message is None:
                        continue
                await self._receive(str(message["o"]), str(message["t"]), dict(message["d"]))
            except Exception:
                log.exception("bus message not handed on")

    async def _spilled(self, spill_id: int) -> dict[str, Any] | None:
        async with self._lock:
            payload = await self._live().fetchval('SELECT "payload" FROM "bus_spill" WHERE "id" = $1', spill_id)
        if payload is None:
            log.warning("bus message pruned before it was read", spill_id=spill_id)
            return None
        return dict(json.loads(payload))

    async def _stay_connected(self) -> None:
        delay = 0.2
        while not self._stopping:
            await self._lost.wait()
            log.warning("bus connection lost; reconnecting")
            while not self._stopping:
                try:
                    await self._connect()
                    log.info("bus connection back")
                    delay = 0.2
                    break
                except (OSError, asyncpg.PostgresError) as error:
                    log.warning("bus reconnect failed", error=repr(error), retry_in=delay)
                    await asyncio.sleep(delay)
                    delay = min(RECONNECT_CAP, delay * 2)

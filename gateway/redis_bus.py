"""The bus over Redis pub/sub (`[bus] url = "redis://…"`): no size limit, and the store's
connections are left to the store. Messages published while an instance is disconnected are not
replayed to it, as with PostgreSQL's notices (consoles and widgets re-read the store)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import redis.asyncio as redis
import structlog

from csgw.gateway.bus import Receive

log = structlog.get_logger(__name__)

CHANNEL = "csgw:bus"
RECONNECT_CAP = 10.0


class RedisTransport:
    def __init__(self, url: str) -> None:
        self.url = url
        self._client: redis.Redis = redis.Redis.from_url(url)
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def start(self, receive: Receive) -> None:
        await self._client.ping()  # a wrong URL fails the start, not the first publish
        self._task = asyncio.create_task(self._listen(receive), name="csgw-bus-redis")
        await asyncio.wait_for(self._subscribed.wait(), timeout=10)

    async def send(self, origin: str, topic: str, data: dict[str, Any]) -> None:
        body = json.dumps({"o": origin, "t": topic, "d": data}, ensure_ascii=False, default=str)
        await self._client.publish(CHANNEL, body)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()

    async def _listen(self, receive: Receive) -> None:
        delay = 0.2
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._subscribed.set()
                    delay = 0.2
                    async for item in pubsub.listen():
                        if item.get("type") != "message":
                            continue
                        try:
                            message = json.loads(item["data"])
                            await receive(str(message["o"]), str(message["t"]), dict(message["d"]))
                        except Exception:
                            log.exception("bus message not handed on")
            except (redis.ConnectionError, OSError) as error:
                log.warning("bus connection lost; reconnecting", error=repr(error), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(RECONNECT_CAP, delay * 2)

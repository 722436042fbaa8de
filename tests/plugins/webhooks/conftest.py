"""A real webhook receiver on a loopback port: it checks every delivery's signature with the
shared secret and answers as a test scripts it (200 unless told otherwise)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from csgw.plugins.webhooks.signing import verify

SECRET = "test-secret-0123456789abcdef"


@dataclass
class Received:
    event: str
    delivery_id: str
    attempt: int
    signed: bool  # the signature matched the body and timestamp, with the secret
    body: dict[str, Any]
    status: int  # what the receiver answered
    at: float  # monotonic, when it arrived

    @property
    def data(self) -> dict[str, Any]:
        return self.body["data"]


# An answer: a status, or (status, headers); a callable decides per delivery.
Answer = int | tuple[int, dict[str, str]]


@dataclass
class Receiver:
    secret: str = SECRET
    answer: Callable[[Received], Answer] = lambda _: 200
    received: list[Received] = field(default_factory=list)
    server: TestServer | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/hooks/csgw"))

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        headers = request.headers
        signed = verify(self.secret, headers["X-Csgw-Timestamp"], raw, headers["X-Csgw-Signature"], at=time.time())
        item = Received(headers["X-Csgw-Event"], headers["X-Csgw-Delivery"], int(headers["X-Csgw-Attempt"]),
                        signed, json.loads(raw), 200, time.monotonic())
        answer = self.answer(item) if signed else 401
        status, extra = answer if isinstance(answer, tuple) else (answer, {})
        item.status = status
        async with self._changed:
            self.received.append(item)
            self._changed.notify_all()
        return web.Response(status=status, headers=extra, text="ok" if status < 300 else "not now")

    def accepted(self, event: str | None = None) -> list[Received]:
        """Deliveries answered 2xx, in arrival order."""
        return [r for r in self.received if r.status < 300 and (event is None or r.event == event)]

    async def wait_for(self, check: Callable[[], bool], timeout: float = 10) -> None:
        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(check)

        await asyncio.wait_for(reached(), timeout)

    def endpoint(self, **options: Any) -> dict[str, Any]:
        """A `[[webhooks]]` entry for this receiver: every event, fast retries."""
        return {"url": self.url, "secret": self.secret,
                "events": ["message.created", "conversation.assigned", "conversation.closed",
                           "customer.updated", "satisfaction.rated"],
                "retry_base_seconds": 0.005, "retry_max_seconds": 0.05, **options}


@pytest.fixture
async def receiver():
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/csgw", receiver.handle)
    receiver.server = TestServer(app, host="127.0.0.1")
    await receiver.server.start_server()
    yield receiver
    await receiver.server.close()

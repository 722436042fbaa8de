"""docs/webhooks.md cannot rot: its receiver snippet checks real deliveries, its config table
names every key `[[webhooks]]` takes, and its events table every event the plugin knows."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from csgw.gateway.channel import InboundMessage
from csgw.plugins.webhooks.config import EVENTS, Endpoint
from csgw.testing import running_gateway
from tests.plugins.webhooks.conftest import SECRET

DOCS = Path(__file__).parents[3] / "docs" / "webhooks.md"


def documented_verifier():
    [block] = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    namespace: dict[str, object] = {}
    exec(compile(block, "docs/webhooks.md", "exec"), namespace)
    return namespace["verify_csgw_signature"]


async def test_the_documented_receiver_accepts_real_deliveries_and_nothing_else(tmp_path):
    verify = documented_verifier()
    verdicts: asyncio.Queue[tuple[bool, bool, bool]] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        verdicts.put_nowait((verify(SECRET, request.headers, body),
                             verify("another-secret-0123", request.headers, body),
                             verify(SECRET, request.headers, body.replace(b"}", b" }", 1))))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/crm", receive)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    endpoint = {"url": str(server.make_url("/crm")), "secret": SECRET, "events": ["message.created"]}
    try:
        async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "shop"}],
                                   webhooks=[endpoint]) as gw:
            await gw.services.accept(InboundMessage("fake", "shop", "u-1", "你好", "m-1"))
            first, second = [await asyncio.wait_for(verdicts.get(), 10) for _ in range(2)]
    finally:
        await server.close()
    assert first == second == (True, False, False)  # the secret's, not another's, not altered


def test_the_config_table_lists_every_key_and_the_events_table_every_event():
    text = DOCS.read_text(encoding="utf-8")
    config = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\| `(\w+)` \|", config, re.M) == list(Endpoint.model_fields)
    events = text.split("\n## Events and payloads", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\| `([\w.]+)` \|", events, re.M) == list(EVENTS)

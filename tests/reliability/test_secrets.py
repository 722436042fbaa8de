"""Secrets stay secret: none in the logs under traffic and failures; agent tokens hashed and scoped."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from csgw.gateway.channel import InboundMessage
from csgw.gateway.logging import configure_logging
from csgw.gateway.models import Agent
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent
from tests.reliability.wechat_push import OA_CHANNEL, push

APP_SECRET = "s3cr3t-app-secret-4f1d"
IDENTITY_SECRET = "s3cr3t-identity-9b2e"


@pytest.fixture
def captured_logs():
    stream = io.StringIO()
    configure_logging("debug", "json", stream)
    yield stream
    configure_logging("info", "console", sys.__stderr__)


async def failing_platform() -> web.AppRunner:
    """A WeChat API that fails every call with a 500 echoing the request, as a broken proxy might."""
    async def fail(request: web.Request) -> web.Response:
        return web.Response(status=500, text=f"upstream error for {request.path_qs}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fail)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def test_no_secret_reaches_the_logs(tmp_path, captured_logs):
    platform = await failing_platform()
    port = platform.addresses[0][1]
    oa = {**OA_CHANNEL, "app_secret": APP_SECRET, "api_base": f"http://127.0.0.1:{port}"}
    site = {"plugin": "webchat", "account": "site", "identity_secret": IDENTITY_SECRET}
    try:
        async with running_gateway(tmp_path, channels=[oa, site]) as gw, aiohttp.ClientSession() as session:
            agent, token = await add_agent("alice", status="online")
            assert await push(session, gw.url, "o_secret", "我要投诉，人工客服", 9001) == 200
            async with session.post(f"{gw.url}/webhooks/wechat_oa/shop?signature=x&timestamp=1&nonce=2",
                                    data=b"<xml/>") as response:
                assert response.status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await session.ws_connect(f"{gw.url}/widget/ws?site=site&visitor=visitor-0001&sig=bad")
            alice = AgentClient(session, gw.url, token)
            conversation = (await alice.call("GET", "/conversations"))["items"][0]
            await alice.call("POST", f"/conversations/{conversation['id']}/take")
            await alice.call("POST", f"/conversations/{conversation['id']}/messages", {"text": "您好"})
            await AgentClient(session, gw.url, token + "x").call("GET", "/me", expect=401)
            channel = gw.services.channel("wechat_oa", "shop")
            failed = asyncio.Event()
            real_send = channel.send

            async def observed_send(message):
                try:
                    await real_send(message)
                except Exception:
                    failed.set()
                    raise

            channel.send = observed_send
            await gw.services.accept(InboundMessage("wechat_oa", "shop", "o_secret", "还在吗", "9002"))
            await alice.call("POST", f"/conversations/{conversation['id']}/messages", {"text": "在的"})
            await asyncio.wait_for(failed.wait(), 15)  # the send failed against the broken platform
    finally:
        await platform.cleanup()
    logs = captured_logs.getvalue()
    assert "upstream error" in logs or "wechat.send_failed" in logs  # the failure itself was logged
    for secret in (APP_SECRET, IDENTITY_SECRET, token, OA_CHANNEL["token"]):
        assert secret not in logs, f"{secret[:6]}… appears in the logs"


async def test_agent_tokens_are_hashed_and_only_act_as_their_agent(tmp_path):
    db = tmp_path / "csgw.db"
    async with running_gateway(tmp_path, database_url=f"sqlite://{db}") as gw, aiohttp.ClientSession() as session:
        alice, alice_token = await add_agent("alice")
        bob, bob_token = await add_agent("bob")
        assert (await AgentClient(session, gw.url, alice_token).call("GET", "/me"))["id"] == alice.id
        assert (await AgentClient(session, gw.url, bob_token).call("GET", "/me"))["id"] == bob.id
        await AgentClient(session, gw.url, alice_token).call("PUT", "/me/status", {"status": "online"})
        assert (await Agent.get(id=alice.id)).status == "online" and (await Agent.get(id=bob.id)).status != "online"
        for stored in await Agent.all():
            assert stored.token_hash not in (alice_token, bob_token) and len(stored.token_hash) == 64
    on_disk = b"".join(Path(f"{db}{suffix}").read_bytes() for suffix in ("", "-wal")
                       if Path(f"{db}{suffix}").exists())
    assert alice_token.encode() not in on_disk and bob_token.encode() not in on_disk

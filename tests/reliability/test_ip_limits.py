"""Per-IP rate limits on webhooks, widget connections and widget messages; origin checks."""

from __future__ import annotations

import aiohttp
import pytest

from csgw.config.errors import ConfigError
from csgw.gateway import limits as limits_module
from csgw.gateway.limits import IP_LIMITS, IpLimits
from csgw.gateway.testing import make_settings, running_gateway
from tests.reliability.wechat_push import OA_CHANNEL, push

SITE = {"plugin": "webchat", "account": "site", "allowed_origins": ["https://shop.example"]}
ORIGIN = {"Origin": "https://shop.example"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_buckets_refill_and_stay_bounded(monkeypatch):
    clock = Clock()
    limits = IpLimits(webhook_per_minute=3, exempt_loopback=False, clock=clock)
    assert [limits.allow("webhook", "203.0.113.7") for _ in range(4)] == [True, True, True, False]
    assert limits.allow("webhook", "203.0.113.8")  # another address has its own bucket
    clock.now += 20  # a third of a minute: one token back
    assert limits.allow("webhook", "203.0.113.7") and not limits.allow("webhook", "203.0.113.7")
    monkeypatch.setattr(limits_module, "MAX_TRACKED", 50)
    for n in range(500):
        limits.allow("webhook", f"198.51.100.{n % 250}-{n}")
    assert len(limits._buckets) == 50
    assert IpLimits().allow("webhook", "127.0.0.1") and IpLimits().allow("webhook", "::1")


async def test_limits_from_config_apply_per_address_over_http(tmp_path):
    rate_limits = {"webhook_per_minute": 3, "widget_connections_per_minute": 2,
                   "widget_messages_per_minute": 3, "exempt_loopback": False}
    async with running_gateway(tmp_path, channels=[OA_CHANNEL, SITE], server={"rate_limits": rate_limits}
                               ) as gw, aiohttp.ClientSession() as session:
        statuses = [await push(session, gw.url, "o_rate", "你好", 500 + n) for n in range(5)]
        assert statuses == [200, 200, 200, 429, 429]

        url = f"{gw.url}/widget/ws?site=site"
        first = await session.ws_connect(f"{url}&visitor=visitor-0001", headers=ORIGIN)
        second = await session.ws_connect(f"{url}&visitor=visitor-0002", headers=ORIGIN)
        assert [(await s.receive_json(timeout=10))["type"] for s in (first, second)] == ["hello", "hello"]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(f"{url}&visitor=visitor-0003", headers=ORIGIN)
        assert refused.value.status == 429
        frames = []
        for n, socket in enumerate([first, second, first, second]):  # two visitors, one address
            await socket.send_json({"type": "message", "client_id": f"c{n}", "text": "你好"})
            while (frame := await socket.receive_json(timeout=10))["type"] not in ("ack", "error"):
                pass
            frames.append(frame["type"] if frame["type"] == "ack" else frame["code"])
        assert frames == ["ack", "ack", "ack", "rate_limited"]
        await first.close()
        await second.close()


def test_a_limit_must_be_positive(tmp_path):
    with pytest.raises(ConfigError) as error:
        make_settings(tmp_path, server={"rate_limits": {"widget_messages_per_minute": 0}})
    assert any("server.rate_limits.widget_messages_per_minute" in line for line in error.value.lines)


async def test_forwarded_address_is_trusted_only_behind_a_tls_proxy(tmp_path):
    async with running_gateway(tmp_path, channels=[OA_CHANNEL]) as gw, aiohttp.ClientSession() as session:
        limits = gw.server.app[IP_LIMITS]
        limits.exempt_loopback = False
        limits.webhook_per_minute = 1
        spoofed = {"X-Forwarded-For": "203.0.113.1"}
        async with session.get(f"{gw.url}/webhooks/wechat_oa/shop", headers=spoofed) as response:
            assert response.status != 429
        async with session.get(f"{gw.url}/webhooks/wechat_oa/shop",
                               headers={"X-Forwarded-For": "203.0.113.2"}) as response:
            assert response.status == 429  # the header is ignored: both came from 127.0.0.1
        limits.trust_forwarded = True
        for address in ("203.0.113.3", "203.0.113.4"):
            async with session.get(f"{gw.url}/webhooks/wechat_oa/shop",
                                   headers={"X-Forwarded-For": f"10.0.0.1, {address}"}) as response:
                assert response.status != 429


@pytest.mark.parametrize(("headers", "status"), [
    ({"Origin": "https://evil.example"}, 403), ({}, 403), ({"Origin": "https://shop.example.evil"}, 403),
    (ORIGIN, 101)])
async def test_widget_origin_is_checked(tmp_path, headers, status):
    async with running_gateway(tmp_path, channels=[SITE]) as gw, aiohttp.ClientSession() as session:
        url = f"{gw.url}/widget/ws?site=site&visitor=visitor-0001"
        if status == 101:
            socket = await session.ws_connect(url, headers=headers)
            assert (await socket.receive_json(timeout=10))["type"] == "hello"
            await socket.close()
        else:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(url, headers=headers)
            assert refused.value.status == status

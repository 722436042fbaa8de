"""Per-IP rate limits on webhooks, widget connections and widget messages; origin checks."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from csgw.config.errors import ConfigError
from csgw.gateway.limits import IpLimits, proxy_networks
from csgw.testing import make_settings, running_gateway
from tests.reliability.wechat_push import OA_CHANNEL, push

SITE = {"plugin": "webchat", "account": "site", "allowed_origins": ["https://shop.example"]}
ORIGIN = {"Origin": "https://shop.example"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_buckets_refill_and_stay_bounded():
    clock = Clock()
    limits = IpLimits(webhook_per_minute=3, exempt_loopback=False, clock=clock)
    assert [limits.allow("webhook", "203.0.113.7") for _ in range(4)] == [True, True, True, False]
    assert limits.allow("webhook", "203.0.113.8")  # another address has its own bucket
    clock.now += 20  # a third of a minute: one token back
    assert limits.allow("webhook", "203.0.113.7") and not limits.allow("webhook", "203.0.113.7")
    limits.local.capacity = 50
    for n in range(500):
        limits.allow("webhook", f"198.51.100.{n % 250}-{n}")
    assert limits.local.tracked == 50
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


def client_of(limits: IpLimits, peer: str, *forwarded: str) -> str:
    headers = CIMultiDict(("X-Forwarded-For", value) for value in forwarded)
    return limits.client_ip(make_mocked_request("GET", "/", headers=headers).clone(remote=peer))


PROXIES = proxy_networks(["10.0.0.5", "192.0.2.0/24", "2001:db8:1::/48"], behind_tls_proxy=True)


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # straight from the internet: header ignored
    ("10.0.0.6", ["198.51.100.1"], "10.0.0.6"),  # the proxy's neighbour is no proxy
    ("10.0.0.5", ["198.51.100.1"], "198.51.100.1"),
    ("10.0.0.5", ["1.1.1.1, 2.2.2.2, 198.51.100.1"], "198.51.100.1"),  # what the client wrote is left of it
    ("10.0.0.5", ["1.1.1.1", "198.51.100.1, 192.0.2.7"], "198.51.100.1"),  # two proxies, two headers
    ("10.0.0.5", ["198.51.100.1, 192.0.2.7, 10.0.0.5"], "198.51.100.1"),
    ("10.0.0.5", ["192.0.2.7"], "192.0.2.7"),  # only proxies: the farthest one
    ("10.0.0.5", [], "10.0.0.5"),
    ("10.0.0.5", ["1.1.1.1, not-an-address"], "unknown"),  # shared bucket, never loopback-exempt
    ("10.0.0.5", ["127.0.0.1, garbage"], "unknown"),
    ("10.0.0.5", ["198.51.100.1:4711"], "198.51.100.1"),
    ("10.0.0.5", ["[2001:db8:2::1]:443"], "2001:db8:2::1"),
    ("::ffff:10.0.0.5", ["198.51.100.1"], "198.51.100.1"),  # a dual-stack socket's view of the proxy
    ("2001:db8:1::9", ["198.51.100.1"], "198.51.100.1"),
    ("127.0.0.1", ["198.51.100.1"], "127.0.0.1"),  # loopback is not trusted unless listed
])
def test_forwarded_for_is_read_only_from_trusted_proxies(peer, forwarded, client):
    assert client_of(IpLimits(trusted_proxies=PROXIES), peer, *forwarded) == client


def test_behind_a_tls_proxy_without_a_list_trusts_loopback_only():
    local_proxy = IpLimits(trusted_proxies=proxy_networks([], behind_tls_proxy=True))
    assert client_of(local_proxy, "127.0.0.1", "198.51.100.1") == "198.51.100.1"
    assert client_of(local_proxy, "::1", "198.51.100.1") == "198.51.100.1"
    assert client_of(local_proxy, "203.0.113.9", "198.51.100.1") == "203.0.113.9"
    assert client_of(IpLimits(trusted_proxies=proxy_networks([], behind_tls_proxy=False)),
                     "127.0.0.1", "198.51.100.1") == "127.0.0.1"


def test_ipv6_clients_share_a_bucket_per_64():
    limits = IpLimits(webhook_per_minute=2, exempt_loopback=False, clock=Clock())
    assert [limits.allow("webhook", f"2001:db8:5:6::{n:x}") for n in range(1, 4)] == [True, True, False]
    assert not limits.allow("webhook", "2001:db8:5:6:ffff::1%eth0")
    assert limits.allow("webhook", "2001:db8:5:7::1")


async def test_a_direct_client_cannot_rotate_forwarded_for_to_escape_limits(tmp_path):
    server = {"behind_tls_proxy": True, "trusted_proxies": ["192.0.2.1"],
              "rate_limits": {"webhook_per_minute": 2, "exempt_loopback": False}}
    async with running_gateway(tmp_path, channels=[OA_CHANNEL], server=server) as gw, \
            aiohttp.ClientSession() as session:
        statuses = []
        for n in range(4):  # we connect from 127.0.0.1, which is no trusted proxy
            headers = {"X-Forwarded-For": f"203.0.113.{n}"}
            async with session.get(f"{gw.url}/webhooks/wechat_oa/shop", headers=headers) as response:
                statuses.append(response.status)
        assert statuses[:2] != [429, 429] and statuses[2:] == [429, 429]


async def test_a_trusted_proxy_forwards_each_client_on_its_own(tmp_path):
    server = {"trusted_proxies": ["127.0.0.1"], "rate_limits": {"webhook_per_minute": 1, "exempt_loopback": False}}
    async with running_gateway(tmp_path, channels=[OA_CHANNEL], server=server) as gw, \
            aiohttp.ClientSession() as session:
        async def status(forwarded: str) -> int:
            async with session.get(f"{gw.url}/webhooks/wechat_oa/shop",
                                   headers={"X-Forwarded-For": forwarded}) as response:
                return response.status

        assert await status("203.0.113.3") != 429 and await status("203.0.113.4") != 429
        # what a client writes to the left of the address the proxy appended changes nothing
        assert await status("198.51.100.1, 203.0.113.3") == 429


def test_trusted_proxies_must_be_addresses_or_networks(tmp_path):
    with pytest.raises(ConfigError) as error:
        make_settings(tmp_path, server={"trusted_proxies": ["10.0.0.0/8", "proxy.example"]})
    assert any("server.trusted_proxies" in line and "proxy.example" in line for line in error.value.lines)


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

"""The access token: cached, shared by concurrent callers, renewed before expiry and once when refused."""

from __future__ import annotations

import asyncio

import pytest

from csgw.gateway.channel import SendError
from csgw.gateway.leadership import SoloLeadership
from csgw.gateway.models import Message
from csgw.gateway.shared_token import SharedToken
from csgw.plugins.xiaohongshu.adapter import XiaohongshuAdapter
from csgw.plugins.xiaohongshu.api import XiaohongshuApi
from csgw.plugins.xiaohongshu.throttle import Throttle
from csgw.plugins.xiaohongshu.token import TokenCache
from csgw.testing import running_gateway
from tests.fakes.xiaohongshu_platform import TOKEN_EXPIRED, TOKEN_PATH
from tests.gateway.helpers import wait_delivered
from tests.plugins.email.email_testkit import MemoryCursors
from tests.plugins.xiaohongshu.conftest import (
    APP_KEY,
    APP_SECRET,
    Pusher,
    dm,
    partner_entry,
    xiaohongshu_plugins,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def counting_fetch(lifetime: float = 7200):
    issued: list[str] = []

    async def fetch() -> tuple[str, float]:
        await asyncio.sleep(0)  # let concurrent callers pile up behind the first fetch
        issued.append(f"t{len(issued) + 1}")
        return issued[-1], lifetime

    return fetch, issued


async def test_the_token_is_cached_and_renewed_shortly_before_it_expires():
    fetch, issued = counting_fetch(lifetime=7200)
    clock = Clock()
    cache = TokenCache(fetch, refresh_margin=300, clock=clock)
    assert await cache.get() == "t1"
    clock.now += 6899
    assert await cache.get() == "t1"
    clock.now += 2  # 299 s before expiry: inside the margin
    assert await cache.get() == "t2"
    assert issued == ["t1", "t2"]


async def test_instances_sharing_a_store_use_the_token_one_of_them_fetched():
    shared = SharedToken(MemoryCursors(), SoloLeadership(), "xiaohongshu", "shop")
    fetch, issued = counting_fetch(lifetime=7200)
    here, there = TokenCache(fetch, shared=shared), TokenCache(fetch, shared=shared)  # two instances
    assert await here.get() == "t1"
    assert await there.get() == "t1"  # read from the store: no second fetch
    assert await there.refresh("t1") == "t2"  # the platform refused it: renewed once, for all
    assert await here.refresh("t1") == "t2"
    assert issued == ["t1", "t2"] and here.fetches + there.fetches == 2


async def test_a_short_lived_token_is_renewed_halfway_not_on_every_call():
    fetch, issued = counting_fetch(lifetime=60)
    clock = Clock()
    cache = TokenCache(fetch, refresh_margin=300, clock=clock)
    await cache.get()
    clock.now += 29
    await cache.get()
    clock.now += 2
    await cache.get()
    assert issued == ["t1", "t2"]


async def test_concurrent_callers_share_one_fetch_and_one_renewal():
    fetch, issued = counting_fetch()
    cache = TokenCache(fetch)
    assert await asyncio.gather(*(cache.get() for _ in range(10))) == ["t1"] * 10
    # ten calls refused with t1 at once: one renewal, the others get its token
    assert await asyncio.gather(*(cache.refresh("t1") for _ in range(10))) == ["t2"] * 10
    assert issued == ["t1", "t2"] and cache.fetches == 2


def make_api(platform, http, *, token_path: str = TOKEN_PATH) -> XiaohongshuApi:
    return XiaohongshuApi(http, api_base=platform.base_url, app_key=APP_KEY, app_secret=APP_SECRET,
                          adapter=XiaohongshuAdapter(token_path=token_path), throttle=Throttle(100), timeout=2)


async def test_concurrent_sends_fetch_the_token_once(partner, http):
    api = make_api(partner, http)
    await asyncio.gather(*(api.send("u1", str(i), text=f"m{i}") for i in range(5)))
    assert len(partner.calls(TOKEN_PATH)) == 1
    assert len(partner.sent) == 5 and {c.code for c in partner.calls(partner.send_path)} == {0}


async def test_an_expired_token_is_renewed_once_and_the_call_retried_once(partner, http):
    api = make_api(partner, http)
    await api.send("u1", "1", text="before")
    partner.expire_tokens()
    await api.send("u1", "2", text="after")
    assert [c.code for c in partner.calls(partner.send_path)] == [0, TOKEN_EXPIRED, 0]
    assert len(partner.calls(TOKEN_PATH)) == 2
    first, second = (c.query["access-token"] for c in partner.calls(partner.send_path)[::2])
    assert first != second


async def test_a_token_refused_again_after_renewal_is_retryable_not_a_loop(partner, http):
    api = make_api(partner, http)
    await api.send("u1", "1", text="x")
    partner.fail_next(code=TOKEN_EXPIRED, times=2)
    with pytest.raises(SendError) as info:
        await api.send("u1", "2", text="y")
    assert (info.value.code, info.value.retryable) == (str(TOKEN_EXPIRED), True)
    assert len(partner.calls(partner.send_path)) == 3 and len(partner.calls(TOKEN_PATH)) == 2


async def test_a_refused_token_request_is_a_send_error(partner, http):
    partner.fail_next(code=-1002, path=TOKEN_PATH)
    with pytest.raises(SendError) as info:
        await make_api(partner, http).send("u1", "1", text="x")
    assert (info.value.code, info.value.retryable) == ("-1002", False)
    assert partner.sent == []


async def test_the_token_expires_mid_run_inside_the_gateway(tmp_path, database_url, partner, http):
    async with running_gateway(tmp_path, database_url=database_url, extra_plugins=xiaohongshu_plugins(),
                               channels=[partner_entry(partner)]) as gw:
        pusher = Pusher(http, gw.url + "/webhooks/xiaohongshu/brand")
        await pusher.push(dm("你好", "msg-1"))
        await partner.wait_sent(1)
        partner.expire_tokens()
        await pusher.push(dm("下单后多久发货", "msg-2"))
        await partner.wait_sent(2)
        answers = await Message.filter(direction="out").order_by("id").values_list("id", flat=True)
        await wait_delivered(list(answers))
        sends = partner.calls(partner.send_path)
        assert [c.code for c in sends] == [0, TOKEN_EXPIRED, 0]
        # the refused send was retried inside the same attempt, not left to the outbox
        assert [s["request_id"] for s in partner.sent] == [str(i) for i in answers]
        channel = gw.services.channel("xiaohongshu", "brand")
        assert channel.health_detail()["token_fetches"] == 2

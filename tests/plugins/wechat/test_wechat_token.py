"""access_token cache against the fake platform: shared fetch, early refresh, forced refresh."""

from __future__ import annotations

import asyncio

import pytest

from csgw.plugins.wechat.client import ApiClient
from csgw.plugins.wechat.token import ApiError, oa_token_cache, wecom_token_cache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_callers_share_one_fetch(platform, http):
    platform.oa.add_app("wx1", "s")
    cache = oa_token_cache(http, platform.url, "wx1", "s")
    tokens = await asyncio.gather(*(cache.get() for _ in range(20)))
    assert len(set(tokens)) == 1 and len(tokens[0]) >= 100
    assert platform.token_fetches == ["wx1"]
    assert await cache.get() == tokens[0]
    assert cache.fetches == 1


async def test_token_is_renewed_shortly_before_expiry(platform, http):
    platform.oa.add_app("wx1", "s")
    clock = Clock()
    cache = oa_token_cache(http, platform.url, "wx1", "s", clock=clock, refresh_margin=300)
    first = await cache.get()
    clock.now += 7200 - 301
    assert await cache.get() == first
    clock.now += 2
    assert await cache.get() != first
    assert len(platform.token_fetches) == 2


@pytest.mark.parametrize("break_tokens", ["invalidate_tokens", "expire_tokens"])
async def test_rejected_token_is_refreshed_once_and_the_call_retried(platform, http, break_tokens):
    platform.oa.add_app("wx1", "s")
    platform.oa.add_user("wx1", "o1", nickname="小明")
    client = ApiClient(http, platform.url, oa_token_cache(http, platform.url, "wx1", "s"))
    await client.call("/cgi-bin/user/info", method="GET", params={"openid": "o1"})
    getattr(platform, break_tokens)()
    info = await client.call("/cgi-bin/user/info", method="GET", params={"openid": "o1"})
    assert info["nickname"] == "小明"
    assert len(platform.token_fetches) == 2
    assert len(platform.calls("/cgi-bin/user/info")) == 3


async def test_a_second_token_error_is_not_retried_forever(platform, http):
    platform.oa.add_app("wx1", "s")
    client = ApiClient(http, platform.url, oa_token_cache(http, platform.url, "wx1", "s"))
    platform.fail_next("/cgi-bin/user/info", errcode=40001, times=5)
    with pytest.raises(ApiError) as info:
        await client.call("/cgi-bin/user/info", method="GET", params={"openid": "o1"})
    assert info.value.code == 40001
    assert len(platform.calls("/cgi-bin/user/info")) == 2


async def test_wrong_secret_is_a_clear_non_retryable_error(platform, http):
    platform.oa.add_app("wx1", "right")
    with pytest.raises(ApiError) as info:
        await oa_token_cache(http, platform.url, "wx1", "wrong").get()
    assert (info.value.code, info.value.retryable) == (40125, False)


async def test_token_endpoint_down_is_retryable(platform, http):
    platform.oa.add_app("wx1", "s")
    platform.fail_next("/cgi-bin/token", status=503)
    cache = oa_token_cache(http, platform.url, "wx1", "s")
    with pytest.raises(ApiError) as info:
        await cache.get()
    assert info.value.retryable
    assert await cache.get()  # the next caller fetches again


async def test_wecom_gettoken(platform, http):
    platform.kf.add_corp("ww1", "cs", open_kfids=["wk1"])
    cache = wecom_token_cache(http, platform.url, "ww1", "cs")
    assert await cache.get()
    assert platform.calls("/cgi-bin/gettoken")[0].query == {"corpid": "ww1", "corpsecret": "cs"}
    with pytest.raises(ApiError) as info:
        await wecom_token_cache(http, platform.url, "ww1", "nope").get()
    assert info.value.code == 40001

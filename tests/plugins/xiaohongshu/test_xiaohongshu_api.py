"""Signed sends against the fake platform: error mapping, throttling."""

from __future__ import annotations

import time

import pytest

from csgw.gateway.channel import SendError
from csgw.plugins.xiaohongshu.adapter import XiaohongshuAdapter
from csgw.plugins.xiaohongshu.api import XiaohongshuApi
from csgw.plugins.xiaohongshu.throttle import Throttle
from tests.plugins.xiaohongshu.conftest import APP_KEY, APP_SECRET


def make_api(platform, http, *, secret: str = APP_SECRET, base: str | None = None, per_second: float = 100):
    return XiaohongshuApi(http, api_base=base or platform.base_url, app_key=APP_KEY, app_secret=secret,
                          adapter=XiaohongshuAdapter(), throttle=Throttle(per_second), timeout=2)


async def test_text_and_image_sends_are_signed_and_idempotent(platform, http):
    api = make_api(platform, http)
    await api.send("u1", "41", text="您好")
    await api.send("u1", "41", text="您好")  # a retry after a lost answer
    await api.send("u1", "42-image", image_url="https://img.example/a.jpg")
    assert [(s["message_type"], s["content"]) for s in platform.sent] == [
        ("TEXT", "您好"), ("IMAGE", "https://img.example/a.jpg")]
    assert all(c.code == 0 for c in platform.received)


@pytest.mark.parametrize("setup, code, retryable", [
    (lambda p: None, "-1002", False),  # wrong secret: the fake refuses the sign
    (lambda p: p.fail_next(status=503), "503", True),
    (lambda p: p.fail_next(code=-1), "-1", False),
    (lambda p: p.fail_next(code=429), "rate_limited", True),
    (lambda p: p.rate_limit_next(retry_after=30), "rate_limited", True),
])
async def test_errors_map_to_send_errors(platform, http, setup, code, retryable):
    setup(platform)
    api = make_api(platform, http, secret="wrong" if code == "-1002" else APP_SECRET)
    with pytest.raises(SendError) as info:
        await api.send("u1", "1", text="x")
    assert (info.value.code, info.value.retryable) == (code, retryable)


async def test_after_a_long_retry_after_sends_fail_fast_without_calling(platform, http):
    api = make_api(platform, http)
    platform.rate_limit_next(retry_after=30)
    with pytest.raises(SendError):
        await api.send("u1", "1", text="x")
    with pytest.raises(SendError) as info:
        await api.send("u1", "2", text="y")
    assert info.value.code == "rate_limited" and len(platform.received) == 1
    assert api.throttle.held_for() > 20


async def test_an_unreachable_platform_is_retryable(http):
    api = XiaohongshuApi(http, api_base="http://127.0.0.1:9", app_key="k", app_secret="s",
                         adapter=XiaohongshuAdapter(), throttle=Throttle(10), timeout=2)
    with pytest.raises(SendError) as info:
        await api.send("u1", "1", text="x")
    assert (info.value.code, info.value.retryable) == ("unreachable", True)


async def test_the_pace_spaces_calls(platform, http):
    api = make_api(platform, http, per_second=20)
    for i in range(3):
        await api.send("u1", str(i), text="x")
    first, _, last = platform.received
    assert last.at - first.at >= 0.09


async def test_the_fake_refuses_a_stale_timestamp(platform, http):
    api = make_api(platform, http)
    query = api.signed_query(platform.send_path)
    query["timestamp"] = str(int(time.time()) - 3600)
    async with http.post(platform.base_url + platform.send_path, params=query,
                         json={"to_user_id": "u", "content": "x"}) as resp:
        assert (await resp.json())["code"] == -1002
    assert platform.sent == []

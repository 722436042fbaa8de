"""Official Account customer-service API against the fake: window, quota, errors, media, typing."""

from __future__ import annotations

import pytest

from csgw.gateway.channel import SendError
from csgw.plugins.wechat.client import ApiClient
from csgw.plugins.wechat.oa_api import OfficialAccountApi
from csgw.plugins.wechat.token import oa_token_cache


@pytest.fixture
def api(platform, http) -> OfficialAccountApi:
    platform.oa.add_app("wx1", "s")
    tokens = oa_token_cache(http, platform.url, "wx1", "s")
    return OfficialAccountApi(ApiClient(http, platform.url, tokens, timeout=0.5))


async def test_text_inside_the_window_is_sent(platform, api):
    platform.oa.user_message("wx1", "o1")
    await api.send_text("o1", "您好")
    assert platform.oa.sent == [{"app_id": "wx1", "touser": "o1", "msgtype": "text", "text": {"content": "您好"}}]


async def test_outside_the_window_is_45015_and_final(platform, api):
    platform.oa.user_message("wx1", "o1")
    platform.advance(48 * 3600 + 1)
    with pytest.raises(SendError) as info:
        await api.send_text("o1", "late")
    assert (info.value.code, info.value.retryable) == ("45015", False)
    assert "48-hour" in str(info.value)


async def test_sixth_reply_hits_the_quota(platform, api):
    platform.oa.user_message("wx1", "o1")
    for i in range(5):
        await api.send_text("o1", f"m{i}")
    with pytest.raises(SendError) as info:
        await api.send_text("o1", "m6")
    assert (info.value.code, info.value.retryable) == ("45047", False)


@pytest.mark.parametrize(
    "failure, code",
    [({"errcode": -1}, "-1"), ({"errcode": 45009}, "45009"), ({"status": 502}, "network"), ({"hang": True}, "network")],
)
async def test_transient_failures_are_retryable(platform, api, failure, code):
    platform.oa.user_message("wx1", "o1")
    platform.fail_next("/cgi-bin/message/custom/send", **failure)
    with pytest.raises(SendError) as info:
        await api.send_text("o1", "x")
    assert (info.value.code, info.value.retryable) == (code, True)
    await api.send_text("o1", "x")
    assert len(platform.oa.sent) == 1


async def test_image_by_uploaded_media_and_news(platform, api):
    platform.oa.user_message("wx1", "o1")
    media_id = await api.upload_media("image", "a.png", b"\x89PNG fake", "image/png")
    assert platform.oa.media[media_id] == b"\x89PNG fake"
    await api.send_image("o1", media_id)
    await api.send_news("o1", title="订单", url="https://shop/o/1", description="已发货")
    assert platform.oa.sent[0]["image"] == {"media_id": media_id}
    assert platform.oa.sent[1]["news"]["articles"][0]["url"] == "https://shop/o/1"
    with pytest.raises(SendError) as info:
        await api.send_image("o1", "unknown-media")
    assert info.value.code == "40007"


async def test_typing_needs_a_recent_interaction(platform, api):
    platform.oa.user_message("wx1", "o1")
    await api.typing("o1")
    await api.typing("o1", on=False)
    assert [c.json["command"] for c in platform.calls("/cgi-bin/message/custom/typing")] == ["Typing", "CancelTyping"]
    platform.advance(31)
    with pytest.raises(SendError) as info:
        await api.typing("o1")
    assert info.value.code == "45080"


async def test_a_refused_token_is_retried_until_the_credentials_are_fixed(platform, api):
    platform.oa.user_message("wx1", "o1")
    platform.oa.apps["wx1"].secret = "reset-in-the-console"
    with pytest.raises(SendError) as info:
        await api.send_text("o1", "x")
    assert (info.value.code, info.value.retryable) == ("40125", True)
    assert "IP whitelist" in str(info.value)
    platform.oa.apps["wx1"].secret = "s"  # the operator updated the config
    await api.send_text("o1", "x")
    assert len(platform.oa.sent) == 1

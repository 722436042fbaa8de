"""WeCom kf API against the fake: sync by cursor, send idempotence, welcome, service state."""

from __future__ import annotations

import pytest

from csgw.gateway.channel import SendError
from csgw.plugins.wechat import kf_messages
from csgw.plugins.wechat.client import ApiClient
from csgw.plugins.wechat.kf_api import KfApi
from csgw.plugins.wechat.token import ApiError, wecom_token_cache


@pytest.fixture
def api(platform, http) -> KfApi:
    platform.kf.add_corp("ww1", "cs", open_kfids=["wk1"])
    return KfApi(ApiClient(http, platform.url, wecom_token_cache(http, platform.url, "ww1", "cs")))


async def test_iter_sync_pages_through_has_more_and_empty_pages(platform, api):
    for i in range(5):
        platform.kf.add_message("wk1", "ext1", text=f"m{i}")
    platform.kf.empty_pages["wk1"] = 2
    token = platform.kf.sync_token("wk1")
    batches = [b async for b in api.iter_sync("wk1", token=token, limit=2)]
    assert [len(b.msg_list) for b in batches] == [0, 0, 2, 2, 1]
    assert [b.has_more for b in batches] == [True, True, True, True, False]
    assert [m["text"]["content"] for b in batches for m in b.msg_list] == [f"m{i}" for i in range(5)]
    assert all(c.json["token"] == token for c in platform.calls("/cgi-bin/kf/sync_msg"))
    platform.kf.add_message("wk1", "ext1", text="later")
    again = [b async for b in api.iter_sync("wk1", cursor=batches[-1].next_cursor)]
    assert [m["text"]["content"] for b in again for m in b.msg_list] == ["later"]


async def test_expired_sync_token_and_bad_open_kfid(platform, api):
    token = platform.kf.sync_token("wk1")
    platform.advance(601)
    with pytest.raises(ApiError) as info:
        await api.sync_msg("wk1", token=token)
    assert info.value.code == 95007
    with pytest.raises(ApiError) as info:
        await api.sync_msg("wk-unknown")
    assert info.value.code == 95000


async def test_send_msg_is_idempotent_by_msgid(platform, api):
    platform.kf.add_message("wk1", "ext1", text="hi")
    assert await api.send_text("ext1", "wk1", "您好", msgid="csgw-1") == "csgw-1"
    assert await api.send_text("ext1", "wk1", "您好", msgid="csgw-1") == "csgw-1"
    assert len(platform.kf.sent) == 1
    with pytest.raises(ValueError):
        await api.send_text("ext1", "wk1", "x", msgid="not valid!")
    with pytest.raises(ValueError):
        await api.send_text("ext1", "wk1", "x", msgid="a" * 33)
    with pytest.raises(SendError) as info:
        await api.send_text("ext1", "wk1", "长" * 700, msgid="csgw-2")
    assert info.value.code == "too_long"


async def test_send_outside_window_and_in_human_state(platform, api):
    with pytest.raises(SendError) as info:
        await api.send_text("ext-silent", "wk1", "x", msgid="csgw-3")
    assert (info.value.code, info.value.retryable) == ("45015", False)
    platform.kf.add_message("wk1", "ext1", text="hi")
    platform.kf.receiving_servicers.add("agent1")
    await api.trans_service_state("wk1", "ext1", 3, "agent1")
    assert await api.get_service_state("wk1", "ext1") == (3, "agent1")
    with pytest.raises(SendError) as info:
        await api.send_text("ext1", "wk1", "x", msgid="csgw-4")
    assert (info.value.code, info.value.retryable) == ("95018", False)
    with pytest.raises(ApiError) as err:
        await api.trans_service_state("wk1", "ext1", 3, "agent-away")
    assert err.value.code == 95014


async def test_welcome_code_is_usable_once(platform, api):
    item = platform.kf.add_event("wk1", {"event_type": "enter_session", "external_userid": "ext1",
                                         "scene": "shop", "scene_param": "p"})
    code = item["event"]["welcome_code"]
    await api.send_msg_on_event(code, "欢迎", msgid="csgw-w1")
    with pytest.raises(SendError):
        await api.send_msg_on_event(code, "欢迎", msgid="csgw-w2")
    assert platform.kf.sent[0]["text"] == {"content": "欢迎"} and platform.kf.sent[0]["touser"] == "ext1"


def test_items_and_events_are_normalised():
    text = {"msgid": "m1", "open_kfid": "wk1", "external_userid": "e1", "send_time": 1700000000,
            "origin": 3, "msgtype": "text", "text": {"content": "在吗", "menu_id": "101"}}
    m = kf_messages.to_inbound(text, channel="wecom_kf", account="kf")
    assert (m.text, m.external_id, m.user_id, m.payload["menu_id"]) == ("在吗", "m1", "e1", "101")
    image = dict(text, msgid="m2", msgtype="image", image={"media_id": "MID"})
    assert kf_messages.to_inbound(image, channel="wecom_kf", account="kf").payload["media_id"] == "MID"
    agent_echo = dict(text, origin=5)
    assert kf_messages.to_inbound(agent_echo, channel="wecom_kf", account="kf") is None
    enter = {"msgid": "m3", "send_time": 1, "origin": 4, "msgtype": "event",
             "event": {"event_type": "enter_session", "open_kfid": "wk1", "external_userid": "e1",
                       "scene": "s", "welcome_code": "W"}}
    ev = kf_messages.to_inbound(enter, channel="wecom_kf", account="kf")
    assert (ev.kind, ev.payload["event"], ev.payload["welcome_code"]) == ("event", "enter_session", "W")
    fail = {"msgid": "m4", "origin": 4, "msgtype": "event",
            "event": {"event_type": "msg_send_fail", "open_kfid": "wk1", "external_userid": "e1",
                      "fail_msgid": "csgw-9", "fail_type": 4}}
    assert kf_messages.to_inbound(fail, channel="wecom_kf", account="kf") is None
    assert kf_messages.kf_event(fail)["fail_msgid"] == "csgw-9"
    servicer = {"msgid": "m5", "origin": 4, "msgtype": "event",
                "event": {"event_type": "servicer_status_change", "servicer_userid": "a", "status": 1}}
    assert kf_messages.to_inbound(servicer, channel="wecom_kf", account="kf") is None
    change = {"msgid": "m6", "origin": 4, "msgtype": "event",
              "event": {"event_type": "session_status_change", "open_kfid": "wk1",
                        "external_userid": "e1", "change_type": 3}}
    assert kf_messages.to_inbound(change, channel="wecom_kf", account="kf").payload["change_type"] == 3

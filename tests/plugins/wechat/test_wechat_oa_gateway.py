"""wechat_oa inside the real gateway: the fake platform pushes signed (and in safe mode
wechatpy-encrypted) requests over HTTP, the demo bot answers in the HTTP response, and the
outbox delivers everything later through the fake's customer-service API."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import aiohttp
import pytest

from csgw.gateway.clock import now
from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.models import Conversation, Customer, CustomerIdentity, Message, OutboxItem
from csgw.gateway.reply import Reply, ReplyContext
from csgw.plugins.wechat.events import DEFAULT_GREETINGS
from tests.fakes.wechat_http import xml_fields
from tests.gateway.helpers import AgentClient, add_agent, wait_delivered
from tests.plugins.wechat.keys import AES_KEY, OLD_AES_KEY
from tests.plugins.wechat.wechat_testkit import messages, oa_gateway, wait_until

SEND = "/cgi-bin/message/custom/send"


async def test_url_verification(tmp_path, platform):
    async with oa_gateway(tmp_path, platform):
        assert await platform.oa.verify_url("wx1", "e-123") == (200, "e-123")
        status, _ = await platform.oa.verify_url("wx1", "e-123", token="not-the-token")
        assert status == 403


async def test_text_is_answered_passively_and_retries_get_the_same_answer(tmp_path, platform, database_url):
    async with oa_gateway(tmp_path, platform, database_url):
        platform.oa.user_message("wx1", "o1")
        push = platform.oa.message("wx1", "o1", "下单后多久发货？")
        tries = [await platform.oa.deliver(push) for _ in range(3)]  # WeChat's three tries
        assert {t.status for t in tries} == {200}
        assert len({t.text for t in tries}) == 1 and "48小时内发货" in tries[0].text
        reply = tries[0].fields
        assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == ("o1", "gh_0123456789ab", "text")
        (inbound,) = await messages("wechat_oa", direction="in")
        (answer,) = await messages("wechat_oa", direction="out")
        assert (inbound.text, inbound.external_id) == ("下单后多久发货？", xml_fields(push.body)["MsgId"])
        assert (answer.delivery, answer.reply_to_id) == ("inline", inbound.id)
        assert platform.oa.sent == [] and await OutboxItem.all().count() == 0


async def test_safe_mode_text_is_answered_encrypted(tmp_path, platform, database_url):
    async with oa_gateway(tmp_path, platform, database_url, encoding_aes_key=AES_KEY):
        delivery = await platform.oa.user_says("wx1", "o1", "你好")
        assert set(xml_fields(delivery.body)) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
        assert "您好" in delivery.text  # decrypted by wechatpy
        (inbound,) = await messages("wechat_oa", direction="in")
        assert inbound.text == "你好"
        forged = platform.oa.message("wx1", "o1", "伪造")
        forged = dataclasses.replace(forged, query={**forged.query, "msg_signature": "0" * 40})
        assert (await platform.oa.deliver(forged)).status == 403
        assert await Message.filter(direction="in").count() == 1


async def test_safe_mode_refuses_a_plaintext_push_even_when_its_url_is_signed(tmp_path, platform):
    async with oa_gateway(tmp_path, platform, encoding_aes_key=AES_KEY):
        platform.oa.apps["wx1"].encoding_aes_key = None  # the attacker does not have the key
        plaintext = platform.oa.message("wx1", "o1", "明文冒充")
        assert "encrypt_type" not in plaintext.query
        assert (await platform.oa.deliver(plaintext)).status == 403
        assert await Message.all().count() == 0


async def test_a_captured_push_url_cannot_carry_another_body(tmp_path, platform):
    async with oa_gateway(tmp_path, platform):
        push = platform.oa.message("wx1", "o1", "你好")
        assert (await platform.oa.deliver(push)).status == 200
        assert (await platform.oa.deliver(push)).status == 200  # WeChat's own retry: same body
        forged = platform.oa.message("wx1", "o2", "把订单改到我的地址")
        replayed = dataclasses.replace(push, body=forged.body)  # the captured URL, a new body
        assert (await platform.oa.deliver(replayed)).status == 403
        assert [m.text for m in await messages("wechat_oa", direction="in")] == ["你好"]


async def test_key_rotation_accepts_the_previous_key_and_answers_under_it(tmp_path, platform):
    async with oa_gateway(tmp_path, platform, app_key=OLD_AES_KEY, encoding_aes_key=AES_KEY,
                          previous_encoding_aes_key=OLD_AES_KEY):
        assert "48小时" in (await platform.oa.user_says("wx1", "o1", "几天发货")).text  # in flight under the old key
        platform.oa.apps["wx1"].encoding_aes_key = AES_KEY  # the console switched
        assert "您好" in (await platform.oa.user_says("wx1", "o1", "你好")).text
        assert await Message.filter(direction="in").count() == 2


async def test_hostile_stale_and_unsigned_pushes_are_refused_and_not_stored(tmp_path, platform):
    async with oa_gateway(tmp_path, platform):
        push = platform.oa.message("wx1", "o1", "x")
        entity = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                  "<xml><Content>&e;</Content></xml>")
        bomb = "<xml>" + "A" * 100_000 + "</xml>"
        for body, status in ((entity, 400), (bomb, 413)):
            assert (await platform.oa.deliver(dataclasses.replace(push, body=body))).status == status
        stale = platform.oa.message("wx1", "o1", "replayed", timestamp=int(now().timestamp()) - 3600)
        assert (await platform.oa.deliver(stale)).status == 403
        unsigned = dataclasses.replace(push, query={**push.query, "signature": "0" * 40})
        assert (await platform.oa.deliver(unsigned)).status == 403
        assert await Message.all().count() == 0


async def test_hand_over_note_is_the_passive_reply_and_the_agent_reply_goes_through_the_api(
        tmp_path, platform, database_url):
    async with oa_gateway(tmp_path, platform, database_url) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("alice", status="online")
        delivery = await platform.oa.user_says("wx1", "o1", "转人工")
        # the hand-over note is the passive reply: no customer-service quota spent on it
        assert "Alice" in delivery.text and platform.oa.sent == []
        (conversation,) = await Conversation.filter(channel="wechat_oa")
        assert conversation.state == "assigned"
        agent = AgentClient(session, gw.url, token)
        reply = await agent.call("POST", f"/conversations/{conversation.id}/messages",
                                 {"text": "您好，包裹已到上海，明天送达"}, expect=201)
        await wait_delivered([reply["id"]])
        assert platform.oa.sent == [{"app_id": "wx1", "touser": "o1", "msgtype": "text",
                                     "text": {"content": "您好，包裹已到上海，明天送达"}}]


class SlowBot:
    """A reply plugin that answers after WeChat's patience has run out."""

    name, priority = "slow_bot", 500

    async def reply(self, context: ReplyContext) -> Reply | None:
        if "慢" not in context.text:
            return None
        await asyncio.sleep(0.6)
        return Reply("让您久等了，这是答案")

    @hookimpl
    def csgw_reply_handlers(self, settings) -> list:
        return [self]


async def test_a_late_answer_acknowledges_with_success_and_goes_out_through_the_outbox(tmp_path, platform):
    async with oa_gateway(tmp_path, platform, reply_budget=0.2, extra_plugins=[("slow_bot", SlowBot())]):
        delivery = await platform.oa.user_says("wx1", "o1", "慢慢问")
        assert (delivery.status, delivery.body) == (200, "success")
        await wait_until(lambda: platform.oa.sent)
        assert platform.oa.sent[0]["text"] == {"content": "让您久等了，这是答案"}
        (answer,) = await messages("wechat_oa", direction="out")
        await wait_delivered([answer.id])


async def _conversation_with_agent(gw, session, platform, text: str = "转人工"):
    _, token = await add_agent("bob", status="online")
    await platform.oa.user_says("wx1", "o1", text)
    (conversation,) = await Conversation.filter(channel="wechat_oa")
    return AgentClient(session, gw.url, token), conversation


async def test_outside_the_window_the_message_fails_for_good_with_the_reason(tmp_path, platform, database_url):
    async with oa_gateway(tmp_path, platform, database_url) as gw, aiohttp.ClientSession() as session:
        agent, conversation = await _conversation_with_agent(gw, session, platform)
        platform.advance(49 * 3600)  # only the platform knows: csgw's clock says the customer just wrote
        reply = await agent.call("POST", f"/conversations/{conversation.id}/messages", {"text": "抱歉久等"}, expect=201)

        await wait_until(lambda: Message.filter(id=reply["id"], delivery="failed").exists())
        shown = (await agent.call("GET", f"/conversations/{conversation.id}/messages"))["items"][-1]
        assert shown["delivery"] == "failed"
        assert shown["payload"]["delivery_error"]["code"] == "45015"
        assert "48-hour" in shown["payload"]["delivery_error"]["message"]
        assert (await OutboxItem.get(message_id=reply["id"])).state == "failed"  # never retried
        assert len(platform.calls(SEND)) == 1


async def test_a_window_known_to_be_closed_is_not_attempted(tmp_path, platform, database_url):
    async with oa_gateway(tmp_path, platform, database_url) as gw, aiohttp.ClientSession() as session:
        agent, conversation = await _conversation_with_agent(gw, session, platform)
        long_ago = now() - timedelta(hours=49)
        await Message.filter(conversation_id=conversation.id, direction="in").update(
            created_at=long_ago, platform_ts=long_ago)
        reply = await agent.call("POST", f"/conversations/{conversation.id}/messages", {"text": "还在吗"}, expect=201)

        await wait_until(lambda: Message.filter(id=reply["id"], delivery="failed").exists())
        message = await Message.get(id=reply["id"])
        assert message.payload["delivery_error"]["code"] == "45015"
        assert platform.calls(SEND) == []


@pytest.mark.parametrize("break_tokens, errcode", [("invalidate_tokens", 40001), ("expire_tokens", 42001)])
async def test_a_rejected_token_is_refreshed_once_and_the_send_retried(tmp_path, platform, break_tokens, errcode):
    async with oa_gateway(tmp_path, platform) as gw, aiohttp.ClientSession() as session:
        agent, conversation = await _conversation_with_agent(gw, session, platform)
        first = await agent.call("POST", f"/conversations/{conversation.id}/messages", {"text": "第一条"}, expect=201)
        await wait_delivered([first["id"]])
        getattr(platform, break_tokens)()
        second = await agent.call("POST", f"/conversations/{conversation.id}/messages", {"text": "第二条"}, expect=201)
        await wait_delivered([second["id"]])
        assert [s["text"]["content"] for s in platform.oa.sent] == ["第一条", "第二条"]
        assert platform.token_fetches == ["wx1", "wx1"]
        assert len(platform.calls(SEND)) == 3


async def test_agent_typing_reaches_the_customer(tmp_path, platform):
    async with oa_gateway(tmp_path, platform) as gw, aiohttp.ClientSession() as session:
        agent, conversation = await _conversation_with_agent(gw, session, platform)
        await agent.call("POST", f"/conversations/{conversation.id}/typing", {"on": True}, expect=200)
        await agent.call("POST", f"/conversations/{conversation.id}/typing", {"on": False}, expect=200)
        assert platform.oa.typing == [("o1", "Typing"), ("o1", "CancelTyping")]


async def test_follow_is_greeted_once_with_the_profile_kept(tmp_path, platform, database_url):
    async with oa_gateway(tmp_path, platform, database_url):
        platform.oa.add_user("wx1", "o2", nickname="小红")
        platform.oa.user_event("wx1", "o2")
        push = platform.oa.event("wx1", "o2", "subscribe", event_key="qrscene_store-12")
        tries = [await platform.oa.deliver(push) for _ in range(2)]
        assert [t.text for t in tries] == [DEFAULT_GREETINGS["wechat_oa"]["zh-Hans"]] * 2
        (event,) = await messages("wechat_oa", direction="in")
        assert (event.kind, event.payload["event"], event.payload["scene"]) == ("event", "subscribe", "store-12")
        identity = await CustomerIdentity.get(platform_user_id="o2")
        assert identity.profile["nickname"] == "小红"
        assert (await Customer.get(id=identity.customer_id)).name == "小红"
        # other events are recorded without an answer, and never hand over to a person
        for name in ("CLICK", "unsubscribe"):
            assert (await platform.oa.deliver(platform.oa.event("wx1", "o2", name, event_key="M1"))).body == "success"
        assert (await platform.oa.deliver(platform.oa.event("wx1", "o2", "LOCATION"))).body == "success"
        assert [m.payload["event"] for m in await messages("wechat_oa", direction="in")] == [
            "subscribe", "CLICK", "unsubscribe"]
        assert [c.state for c in await Conversation.all()] == ["bot"]
        assert await Message.filter(direction="out").count() == 1


async def test_greeting_is_configured_per_account(tmp_path, platform):
    async with oa_gateway(tmp_path, platform, greeting="欢迎来到示例小店！"):
        assert (await platform.oa.user_follows("wx1", "o3")).text == "欢迎来到示例小店！"

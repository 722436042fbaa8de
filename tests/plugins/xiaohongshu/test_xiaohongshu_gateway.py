"""The xiaohongshu channel inside the real gateway: encrypted pushes over HTTP, the demo bot
answers, the fake platform takes the signed sends."""

from __future__ import annotations

import json

import structlog

from csgw.gateway.models import Conversation, Customer, Message
from csgw.testing import running_gateway
from tests.fakes.xiaohongshu_platform import encrypted_push, signed_push_query, verification_query
from tests.gateway.helpers import AgentClient, add_agent, wait_delivered
from tests.plugins.xiaohongshu.conftest import (
    AES_KEY,
    APP_KEY,
    TOKEN,
    Pusher,
    channel_entry,
    dm,
    xiaohongshu_plugins,
)


async def test_url_verification_echoes_and_refuses_a_bad_signature(gateway, http):
    url = gateway.url + "/webhooks/xiaohongshu/brand"
    async with http.get(url, params=verification_query(TOKEN, "echo-42")) as resp:
        assert (resp.status, await resp.text()) == (200, "echo-42")
    async with http.get(url, params=verification_query(TOKEN, "echo-42", good=False)) as resp:
        assert resp.status == 403
        assert "echo-42" not in await resp.text()


async def test_a_message_pushed_twice_is_stored_once_and_answered_through_the_api(gateway, pusher, platform):
    for _ in range(2):  # the platform retries a push it thinks we missed
        assert await pusher.push(dm("你好", "msg-1")) == (200, "success")
    (stored,) = await Message.filter(channel="xiaohongshu", direction="in")
    assert (stored.external_id, stored.text, stored.account) == ("msg-1", "你好", "brand")
    (sent,) = await platform.wait_sent(1)
    assert sent["to_user_id"] == "red-user-1" and sent["message_type"] == "TEXT"
    assert [(c.status, c.code) for c in platform.received] == [(200, 0)]  # signature accepted
    (answer,) = await Message.filter(direction="out")
    assert sent["content"] == answer.text and answer.text.startswith("您好")
    await wait_delivered([answer.id])
    assert sent["request_id"] == str(answer.id)


async def test_a_5xx_is_retried_by_the_outbox(gateway, pusher, platform):
    platform.fail_next(status=502)
    assert (await pusher.push(dm("下单后多久发货", "msg-2")))[0] == 200
    (sent,) = await platform.wait_sent(1)
    assert [c.status for c in platform.received] == [502, 200]
    (answer,) = await Message.filter(direction="out")
    assert sent["content"] == answer.text and "48小时" in answer.text
    await wait_delivered([answer.id])


async def test_a_rate_limit_pauses_sending_for_retry_after(gateway, pusher, platform):
    platform.rate_limit_next(retry_after=1)
    await pusher.push(dm("你好", "msg-3"))
    await platform.wait_sent(1)
    limited, delivered = platform.received
    assert limited.status == 429 and delivered.status == 200
    assert delivered.at - limited.at >= 1.0


async def test_bad_signatures_and_hostile_bodies_are_refused(gateway, pusher):
    query, _ = encrypted_push(dm("hi", "m-x"), token=TOKEN, encoding_aes_key=AES_KEY, receiver_id=APP_KEY)
    garbage = "QUJDREVGR0hJSktMTU5PUA=="  # base64 of 16 bytes that are no ciphertext of ours
    other_app = encrypted_push(dm("hi", "m-y"), token=TOKEN, encoding_aes_key=AES_KEY, receiver_id="other")
    answers = {
        "tampered signature": (await pusher.push(dm("hi", "m-1"), tamper=True), 403),
        "replayed (old timestamp)": (await pusher.push(dm("hi", "m-2"), timestamp=1), 403),
        "not JSON": (await pusher.raw(query, b"{not json"), 400),
        "JSON array": (await pusher.raw(query, b"[1, 2]"), 400),
        "no Encrypt": (await pusher.raw(query, {"encrypt": "wrong field name"}), 400),
        "oversized": (await pusher.raw(query, {"Encrypt": "x" * 70_000}), 413),
        "not ciphertext": (await pusher.raw(signed_push_query(TOKEN, garbage), {"Encrypt": garbage}), 400),
        "not JSON inside": (await pusher.push("not json inside"), 400),
        "for another app": (await pusher.raw(*other_app), 400),
    }
    wrong = {name: got for name, ((got, _), expected) in answers.items() if got != expected}
    assert wrong == {}
    assert await Message.all().count() == 0


async def test_refusals_are_logged(tmp_path, database_url, platform, http):
    with structlog.testing.capture_logs() as logs:
        async with running_gateway(tmp_path, database_url=database_url, extra_plugins=xiaohongshu_plugins(),
                                   channels=[channel_entry(platform)]) as gw:
            pusher = Pusher(http, gw.url + "/webhooks/xiaohongshu/brand")
            assert (await pusher.raw({}, b"\xff\xfe"))[0] == 400
            assert (await pusher.push(dm("hi", "m-1"), tamper=True))[0] == 403
            query = verification_query(TOKEN, "e", good=False)
            async with http.get(pusher.url, params=query) as resp:
                assert resp.status == 403
    refusals = [e for e in logs if e["event"].startswith("xiaohongshu.") and e["log_level"] == "warning"]
    assert [e["event"] for e in refusals] == [
        "xiaohongshu.push_refused", "xiaohongshu.bad_msg_signature", "xiaohongshu.bad_signature"]
    assert all(e["channel"] == "xiaohongshu" and e["account"] == "brand" for e in refusals)


def after_sale_push(user: str, order_id: str) -> dict:
    data = {"order_id": order_id, "user_id": user, "returns_id": "R-9", "status": "WAIT_AUDIT"}
    return {"msg_tag": "msg_after_sale_create", "seller_id": "s-1", "data": json.dumps(data)}


async def test_an_after_sale_push_lands_on_the_customers_profile(gateway, pusher, http):
    await pusher.push(dm("我要退货", "msg-4", user="buyer-7"))
    for _ in range(2):  # repeated pushes change nothing
        assert await pusher.push(after_sale_push("buyer-7", "P7001")) == (200, "success")
    (conversation,) = await Conversation.filter(channel="xiaohongshu")
    customer = await Customer.get(id=conversation.customer_id)
    assert customer.state == "aftersale"
    (order,) = customer.orders
    assert order["order_id"] == "P7001" and order["after_sale_id"] == "R-9"
    assert (order["status"], order["events"]) == ("WAIT_AUDIT", ["msg_after_sale_create"])
    _, token = await add_agent("li")
    view = await AgentClient(http, gateway.url, token).call("GET", f"/customers/{customer.id}", expect=200)
    assert view["orders"][0]["order_id"] == "P7001"


async def test_an_order_before_any_message_waits_on_a_new_customer(gateway, pusher):
    await pusher.push(after_sale_push("buyer-8", "P8001"))
    await pusher.push(dm("你好", "msg-5", user="buyer-8"))
    (conversation,) = await Conversation.filter(channel="xiaohongshu")
    customer = await Customer.get(id=conversation.customer_id)
    assert [o["order_id"] for o in customer.orders] == ["P8001"]


async def test_images_notes_and_order_cards_are_normalised(gateway, pusher):
    await pusher.push({**dm("", "msg-6"), "message_type": "IMAGE", "content": {"url": "https://img.example/1.jpg"}})
    await pusher.push({**dm("", "msg-7"), "message_type": "NOTE",
                       "content": json.dumps({"note_id": "n1", "title": "秋冬穿搭", "link": "https://x/n1"})})
    await pusher.push({**dm("", "msg-8"), "message_type": "ORDER", "content": {"order_id": "P9"}})
    rows = await Message.filter(direction="in").order_by("id")
    assert [(m.kind, m.text) for m in rows] == [("image", "[图片]"), ("link", "秋冬穿搭"), ("order", "[订单] P9")]
    assert rows[0].payload["image_url"] == "https://img.example/1.jpg"
    assert rows[1].payload["note"] == {"id": "n1", "title": "秋冬穿搭", "url": "https://x/n1"}
    customer = await Customer.get(id=(await Conversation.get(id=rows[2].conversation_id)).customer_id)
    assert [o["order_id"] for o in customer.orders] == ["P9"]

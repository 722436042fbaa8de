"""wecom_kf inside the real gateway: WeCom's encrypted pushes (wechatpy) trigger sync_msg pulls
from the fake platform; the cursor lives in the database, so a restart (or a crash between
storing a batch and committing its cursor) neither loses nor duplicates a message. With several
instances on one PostgreSQL, one pulls; a push to any other is passed on to it over the bus."""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

from csgw.gateway.bus import Bus
from csgw.gateway.clock import now
from csgw.gateway.leadership import poll_role
from csgw.gateway.models import Conversation, Message
from csgw.gateway.storage.pg_bus import PostgresTransport
from csgw.gateway.storage.pg_leadership import PostgresLeadership
from csgw.plugins.wechat.events import DEFAULT_GREETINGS
from csgw.plugins.wechat.kf_channel import SYNC_TOPIC
from tests.conftest import POSTGRES_URL, reset_postgres
from tests.gateway.helpers import AgentClient, add_agent, wait_delivered
from tests.plugins.wechat.wechat_testkit import KF_ACCOUNT, kf_gateway, messages, wait_until

SYNC, SEND = "/cgi-bin/kf/sync_msg", "/cgi-bin/kf/send_msg"
CURSOR = ("wecom_kf", KF_ACCOUNT, "cursor:wk1")


async def inbound_texts() -> list[str]:
    return [m.text for m in await messages("wecom_kf", direction="in")]


async def test_callback_verification_decrypts_echostr(tmp_path, platform):
    async with kf_gateway(tmp_path, platform):
        assert await platform.kf.verify_url("ww1", "8216452071") == (200, "8216452071")
        platform.kf.corps["ww1"].token = "another-token"  # signed with the wrong token
        status, _ = await platform.kf.verify_url("ww1")
        assert status == 403


async def test_push_pulls_stores_answers_and_commits_the_cursor(tmp_path, platform, database_url):
    async with kf_gateway(tmp_path, platform, database_url) as gw:
        said_at = time.time()
        delivery = await platform.kf.user_says("wk1", "ext1", "你好")
        assert (delivery.status, delivery.body) == (200, "success")
        await wait_until(lambda: platform.kf.sent)
        (question,) = await messages("wecom_kf", direction="in")
        (answer,) = await messages("wecom_kf", direction="out")
        await wait_delivered([answer.id])
        sent = platform.kf.sent[0]
        assert (sent["touser"], sent["open_kfid"], sent["msgid"]) == ("ext1", "wk1", f"csgw-{answer.id}")
        assert "您好" in sent["text"]["content"] and question.text == "你好"
        # the push's token lifts the rate limit (the poller's own first pull, when it takes the lead
        # late on a busy machine, may come after it without one)
        assert any(call.json.get("token") for call in platform.calls(SYNC))
        # the cursor is committed after the batch is stored, not before its answer goes out
        await wait_until(lambda: gw.services.cursors.get(*CURSOR), "c1")
        health = gw.services.channel("wecom_kf", KF_ACCOUNT).health_detail()
        # the lag is the pull's time minus the message's (whole seconds): never more than has passed
        assert health["last_pull_at"] and 0 <= health["sync_lag_seconds"] <= time.time() - said_at + 1


async def test_restart_resumes_from_the_stored_cursor(tmp_path, platform, database_url):
    async with kf_gateway(tmp_path, platform, database_url):
        for text in ("第一条", "第二条"):
            await platform.kf.user_says("wk1", "ext1", text)
        await wait_until(lambda: Message.filter(direction="in").count(), 2)
    # while csgw is down: two more messages, and the pushes about them are lost
    platform.kf.add_message("wk1", "ext1", text="第三条")
    platform.kf.add_message("wk1", "ext2", text="第四条")
    before = len(platform.calls(SYNC))
    async with kf_gateway(tmp_path, platform, database_url) as gw:
        await wait_until(lambda: Message.filter(direction="in").count(), 4)
        assert platform.calls(SYNC)[before].json.get("cursor") == "c2"  # resumed, not from the start
        await wait_until(lambda: gw.services.cursors.get(*CURSOR), "c4")
        assert await inbound_texts() == ["第一条", "第二条", "第三条", "第四条"]


async def test_a_crash_before_the_cursor_commit_neither_loses_nor_duplicates(tmp_path, platform, database_url):
    async with kf_gateway(tmp_path, platform, database_url) as gw:
        cursors = gw.services.cursors
        await wait_until(lambda: cursors.get(*CURSOR))  # the start-up pull committed "c0"
        real_set = cursors.set

        async def crash(*args):
            cursors.set = real_set
            raise RuntimeError("power cut between storing the batch and committing its cursor")

        cursors.set = crash
        await platform.kf.user_says("wk1", "ext1", "存了但游标没存")
        await wait_until(lambda: cursors.set is real_set)
        assert await cursors.get(*CURSOR) == "c0"
    platform.kf.add_message("wk1", "ext1", text="重启后的新消息")
    async with kf_gateway(tmp_path, platform, database_url) as gw:
        await wait_until(lambda: gw.services.cursors.get(*CURSOR), "c2")
        assert await inbound_texts() == ["存了但游标没存", "重启后的新消息"]


async def test_a_lost_send_answer_is_retried_with_the_same_msgid_and_sent_once(tmp_path, platform):
    async with kf_gateway(tmp_path, platform):
        platform.fail_next(SEND, lose_answer=True)  # WeCom sends it, the answer never arrives
        await platform.kf.user_says("wk1", "ext1", "你好")
        await wait_until(lambda: len(platform.calls(SEND)), 2)
        (answer,) = await messages("wecom_kf", direction="out")
        await wait_delivered([answer.id])
        assert [c.json["msgid"] for c in platform.calls(SEND)] == [f"csgw-{answer.id}"] * 2
        assert len(platform.kf.sent) == 1


async def test_entering_a_session_gets_the_welcome_by_its_code(tmp_path, platform, database_url):
    async with kf_gateway(tmp_path, platform, database_url):
        item = platform.kf.add_event("wk1", {"event_type": "enter_session", "external_userid": "ext9",
                                             "scene": "shop_page"})
        await platform.kf.notify("wk1")
        await wait_until(lambda: platform.kf.sent)
        welcome = platform.kf.sent[0]
        assert welcome["welcome"] and welcome["code"] == item["event"]["welcome_code"]
        assert welcome["text"]["content"] == DEFAULT_GREETINGS["wecom_kf"]["zh-Hans"]
        assert [c.state for c in await Conversation.all()] == ["bot"]  # an event never hands over


async def test_msg_send_fail_marks_the_message_undelivered(tmp_path, platform, database_url):
    async with kf_gateway(tmp_path, platform, database_url) as gw:
        await platform.kf.user_says("wk1", "ext1", "你好")
        await wait_until(lambda: platform.kf.sent)
        (answer,) = await messages("wecom_kf", direction="out")
        await wait_delivered([answer.id])
        platform.kf.add_event("wk1", {"event_type": "msg_send_fail", "external_userid": "ext1",
                                      "fail_msgid": f"csgw-{answer.id}", "fail_type": 10})
        await platform.kf.notify("wk1")

        await wait_until(lambda: Message.filter(id=answer.id, delivery="failed").exists())
        error = (await Message.get(id=answer.id)).payload["delivery_error"]
        assert error == {"message": "not delivered: customer refused messages from this account",
                         "code": "msg_send_fail:10"}
        channel = gw.services.channel("wecom_kf", KF_ACCOUNT)
        assert channel.health_detail()["last_error_code"] == "msg_send_fail:10"


async def test_kf_account_and_window_come_from_the_database_after_a_restart(tmp_path, platform, database_url):
    kfids = ("wk1", "wk2")
    async with kf_gateway(tmp_path, platform, database_url, open_kfids=kfids):
        _, token = await add_agent("carol", status="online")
        await platform.kf.user_says("wk2", "ext1", "转人工")
        await wait_until(lambda: Conversation.filter(state="assigned").exists())
    async with kf_gateway(tmp_path, platform, database_url, open_kfids=kfids) as gw, \
            aiohttp.ClientSession() as session:
        agent = AgentClient(session, gw.url, token)
        (conversation,) = await Conversation.all()
        reply = await agent.call("POST", f"/conversations/{conversation.id}/messages", {"text": "在查了"}, expect=201)
        await wait_delivered([reply["id"]])
        assert platform.calls(SEND)[-1].json["open_kfid"] == "wk2"  # where the customer wrote

        long_ago = now() - timedelta(hours=49)
        await Message.filter(conversation_id=conversation.id, direction="in").update(
            created_at=long_ago, platform_ts=long_ago)
        sends = len(platform.calls(SEND))
        late = await agent.call("POST", f"/conversations/{conversation.id}/messages", {"text": "还在吗"}, expect=201)

        await wait_until(lambda: Message.filter(id=late["id"], delivery="failed").exists())
        assert (await Message.get(id=late["id"])).payload["delivery_error"]["code"] == "45015"
        assert len(platform.calls(SEND)) == sends  # not attempted


# --- several instances on one PostgreSQL: one pulls, every one takes pushes --------------------

shared = pytest.mark.skipif(not POSTGRES_URL, reason="several instances share PostgreSQL only")
ROLE = poll_role("wecom_kf", KF_ACCOUNT)
FAST_TAKEOVER = {"database": {"leader_retry_seconds": 0.05}}


@pytest.fixture
async def other_instance():
    """Another instance on the same PostgreSQL, as far as this one can tell: its leadership and its bus."""
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    leadership = PostgresLeadership(POSTGRES_URL)
    bus = Bus("other-instance", PostgresTransport(POSTGRES_URL))
    heard: list[dict[str, Any]] = []

    async def hear(data: dict[str, Any]) -> None:
        heard.append(data)

    bus.subscribe(SYNC_TOPIC, hear)
    await bus.start()
    yield SimpleNamespace(leadership=leadership, bus=bus, heard=heard)
    await bus.stop()
    await leadership.stop()


@shared
async def test_a_follower_passes_pushes_on_and_pulls_only_once_the_leader_is_gone(
        tmp_path, platform, other_instance):
    assert await other_instance.leadership.try_lead(ROLE)  # the other instance pulls for the account
    async with kf_gateway(tmp_path, platform, POSTGRES_URL, sections=FAST_TAKEOVER) as gw:
        channel = gw.services.channel("wecom_kf", KF_ACCOUNT)
        delivery = await platform.kf.user_says("wk1", "ext1", "你好")
        assert (delivery.status, delivery.body) == (200, "success")  # every instance takes pushes
        await wait_until(lambda: other_instance.heard)  # and passes them on to the one that pulls
        assert other_instance.heard[0]["open_kfid"] == "wk1" and other_instance.heard[0]["token"]
        leadership = gw.services.leadership
        refused = leadership.refused
        await wait_until(lambda: leadership.refused >= refused + 10)  # ten tries, each found it led
        assert platform.calls(SYNC) == [] and not channel.polling
        await other_instance.leadership.stop()  # the other instance is gone
        await wait_until(inbound_texts, ["你好"])  # taken over, caught up from the stored cursor
        assert channel.polling


@shared
async def test_the_leader_pulls_for_a_push_another_instance_took(tmp_path, platform, other_instance):
    async with kf_gateway(tmp_path, platform, POSTGRES_URL, sections=FAST_TAKEOVER) as gw:
        channel = gw.services.channel("wecom_kf", KF_ACCOUNT)
        await wait_until(lambda: gw.services.cursors.get(*CURSOR))  # its start-up pull: it leads
        assert channel.polling and not await other_instance.leadership.try_lead(ROLE)
        platform.kf.add_message("wk1", "ext1", text="你好")
        pulls = len(platform.calls(SYNC))
        await other_instance.bus.publish(SYNC_TOPIC, {"account": KF_ACCOUNT, "open_kfid": "wk1",
                                                      "token": platform.kf.sync_token("wk1")})
        await wait_until(inbound_texts, ["你好"])
        assert platform.calls(SYNC)[pulls].json["token"]  # the push's token came along

"""The pipeline through the fake channel: durability, dedupe, closed conversations, recovery."""

from __future__ import annotations

import asyncio
import sqlite3

from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Conversation, Customer, CustomerIdentity, Message
from csgw.gateway.storage.store import StoredInbound
from csgw.testing import running_gateway
from tests.gateway.helpers import add_agent

FAKE = [{"plugin": "fake", "account": "shop"}]


def inbound(text: str, external_id: str | None, user: str = "u-1") -> InboundMessage:
    return InboundMessage(channel="fake", account="shop", user_id=user, text=text, external_id=external_id,
                          profile={"nickname": "小王"})


async def test_accepted_message_is_on_disk_before_accept_returns(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw:
        accepted = await gw.services.accept(inbound("你好", "m-1"))
        # A separate connection, as a restarted process would open, already sees it.
        with sqlite3.connect(tmp_path / "csgw.db") as other:
            row = other.execute("SELECT text, direction FROM message WHERE id = ?", (accepted.message_id,)).fetchone()
        assert row == ("你好", "in")


async def test_duplicates_and_concurrent_retries_store_once(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        results = await asyncio.gather(*(gw.services.accept(inbound("你好", "m-1")) for _ in range(5)))
        assert len({r.message_id for r in results}) == 1
        assert sum(not r.duplicate for r in results) == 1
        sent = await gw.fake("shop").wait_sent(1)
        assert await Message.filter(direction="in").count() == 1
        assert len(sent) == 1 and await Message.filter(direction="out").count() == 1
        assert await Customer.all().count() == 1 and await CustomerIdentity.all().count() == 1
        assert (await Customer.first()).name == "小王"


async def test_closed_conversation_is_never_reopened(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        first = await gw.services.accept(inbound("你好", "m-1"))
        conversation = await Conversation.get(id=first.conversation_id)
        await gw.services.conversations.close(conversation)
        second = await gw.services.accept(inbound("又是我", "m-2"))
        assert second.conversation_id != first.conversation_id
        assert (await Conversation.get(id=first.conversation_id)).state == "closed"
        assert (await Conversation.get(id=second.conversation_id)).customer_id == conversation.customer_id


async def test_unknown_question_goes_to_a_person_never_a_dead_end(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw:
        agent, _ = await add_agent("carol", status="online")
        accepted = await gw.services.accept(inbound("你们仓库在火星吗", "m-1"))
        [menu] = await gw.fake("shop").wait_sent(1)
        assert menu.sender == "bot" and "转人工" in menu.text  # the menu always offers a person
        await gw.services.accept(inbound("火星上能收快递吗", "m-2"))
        sent = await gw.fake("shop").wait_sent(3)
        assert sent[-1].sender == "system"  # told that a person is coming
        conversation = await Conversation.get(id=accepted.conversation_id)
        assert conversation.state in ("assigned", "queued") and conversation.waiting_since is not None
        assert agent.id  # routing rules (group, capacity) decide between them: tests/routing


async def test_complaint_skips_the_bot_with_priority(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw:
        accepted = await gw.services.accept(inbound("你好，我要投诉你们", "m-1"))
        await gw.fake("shop").wait_sent(1)
        conversation = await Conversation.get(id=accepted.conversation_id)
        assert conversation.state == "queued" and conversation.priority == 10
        assert conversation.flags["complaint"] is True
        assert await Message.filter(sender="bot").count() == 0


async def test_inline_reply_is_not_also_queued(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw:
        accepted = await gw.services.accept(inbound("你好", "m-1"), wait_reply=5)
        assert [r.sender for r in accepted.inline_replies] == ["bot"]
        again = await gw.services.accept(inbound("你好", "m-1"), wait_reply=5)
        assert again.duplicate and [r.message_id for r in again.inline_replies] == [accepted.inline_replies[0].message_id]
        outbound = await Message.get(id=accepted.inline_replies[0].message_id)
        assert outbound.delivery == "inline"
        assert gw.fake("shop").attempts == []


async def test_recovery_answers_unprocessed_messages_once(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw:
        stored = await gw.services.store.store_inbound(inbound("你好", "m-1"))  # stored, as before a crash
        assert not (await Message.get(id=stored.message_id)).processed
        assert await gw.services.pipeline.recover() == 1
        assert await gw.services.pipeline.recover() == 0
        await gw.fake("shop").wait_sent(1)
        assert (await Message.get(id=stored.message_id)).processed
        assert await Message.filter(direction="out").count() == 1
        assert isinstance(stored, StoredInbound)


async def test_noise_is_stored_but_never_answered_nor_routed(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw:
        noise = InboundMessage("fake", "shop", "mailer-daemon", "Undelivered Mail Returned", "bounce-1",
                               payload={"no_auto_reply": True})
        accepted = await gw.services.accept(noise)
        await gw.services.pipeline.drain()
        assert (await Message.get(id=accepted.message_id)).processed
        assert await Message.filter(direction="out").count() == 0
        assert (await Conversation.get(id=accepted.conversation_id)).state == "bot"

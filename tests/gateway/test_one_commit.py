"""A message the bot answers is stored with its answer in one commit (`storage/answered_plans.py`),
on SQLite and PostgreSQL: the message, the reply, its outbox row, the bot's state and its tags."""

from __future__ import annotations

import asyncio
from typing import Any

from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Conversation, ConversationTag, Message, OutboxItem
from csgw.gateway.storage.writer import each_plan
from csgw.testing import RunningGateway, running_gateway
from tests.gateway.helpers import HeldReplies, add_agent

FAKE = [{"plugin": "fake", "account": "shop"}]


def said(text: str, number: int, user: str = "u-1") -> InboundMessage:
    return InboundMessage(channel="fake", account="shop", user_id=user, text=text, external_id=f"{user}-{number}")


async def commits_for(gw: RunningGateway, inbound: InboundMessage, wait_reply: float | None = None) -> int:
    """The core's writer jobs for `inbound`, up to the end of everything it started (announcements,
    tags, hand-over). Not counted: the outbox's delivery bookkeeping, and plugins' own tables
    (which a plugin writes through the writer as it sees fit)."""
    writer = gw.services.writer
    await gw.services.pipeline.drain()
    jobs: list[str] = []
    queue = writer.run_batched

    async def counted(handler: Any, item: Any) -> Any:
        plan = item[0] if handler is each_plan else handler
        if plan.__module__.startswith("csgw.gateway.") and not plan.__module__.startswith("csgw.gateway.outbox"):
            jobs.append(plan.__qualname__)
        return await queue(handler, item)

    writer.run_batched = counted  # type: ignore[method-assign]
    try:
        await gw.services.accept(inbound, wait_reply=wait_reply)
        await gw.services.pipeline.drain()
    finally:
        writer.run_batched = queue  # type: ignore[method-assign]
    return len(jobs)


async def test_an_answered_message_is_one_commit_with_its_reply_outbox_row_and_tag(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        await gw.services.accept(said("你好", 1))  # a new conversation: stored, then answered
        assert await commits_for(gw, said("下单后多久发货？", 2)) == 1
        [message] = await Message.filter(external_id="u-1-2")
        [reply] = await Message.filter(reply_to_id=message.id)
        assert message.processed and reply.sender == "bot" and "发货" in reply.text
        assert await OutboxItem.filter(message_id=reply.id, state__in=("pending", "sent")).exists()
        tags = await ConversationTag.filter(conversation_id=message.conversation_id).values_list("tag", flat=True)
        assert tags  # the category the bot answered from, in the same transaction
        sent = await gw.fake("shop").wait_sent(2)
        assert [s.text for s in sent][-1] == reply.text


async def test_a_first_message_is_two_commits_its_reply_carrying_the_bots_tags(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        # the message (its conversation and customer new), then the reply with its tags
        assert await commits_for(gw, said("下单后多久发货？", 1)) == 2
        [message] = await Message.filter(external_id="u-1-1")
        [reply] = await Message.filter(reply_to_id=message.id)
        assert message.processed and reply.sender == "bot" and "发货" in reply.text
        assert await ConversationTag.filter(conversation_id=message.conversation_id, source="reply").exists()


async def test_an_inline_answer_is_one_commit_and_a_retried_push_gets_the_same_answer(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        await gw.services.accept(said("你好", 1), wait_reply=5)
        assert await commits_for(gw, said("怎么退货", 2), wait_reply=5) == 1
        again = await gw.services.accept(said("怎么退货", 2), wait_reply=5)
        [first] = await Message.filter(reply_to_id=again.message_id)
        assert again.duplicate and [r.text for r in again.inline_replies] == [first.text]
        assert await Message.filter(external_id="u-1-2").count() == 1
        assert not await OutboxItem.filter(message_id=first.id).exists()  # answered in the push's response


async def test_a_miss_and_the_menu_are_one_commit_and_the_bot_state_goes_with_them(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        first = await gw.services.accept(said("你好", 1))
        assert await commits_for(gw, said("你们仓库在火星吗", 2)) == 1  # a miss: the menu
        conversation = await Conversation.get(id=first.conversation_id)
        assert conversation.bot_state["kb"]["misses"] == 1
        assert await commits_for(gw, said("1", 3)) == 1  # a number picks from the menu
        assert (await Conversation.get(id=first.conversation_id)).bot_state != conversation.bot_state


async def test_a_hand_over_and_a_queued_customers_message_are_each_stored_in_one_commit(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        first = await gw.services.accept(said("你好", 1))
        # The message with the hand-over decided under the queue lock: the desk's one write.
        assert await commits_for(gw, said("人工", 2)) == 1
        conversation = await Conversation.get(id=first.conversation_id)
        [asked] = await Message.filter(external_id="u-1-2")
        assert conversation.state == "queued" and asked.processed
        assert await Message.filter(reply_to_id=asked.id, sender="system").count() == 1  # told once
        assert await commits_for(gw, said("还在吗", 3)) == 1  # for the person: stored processed, unanswered
        [waiting] = await Message.filter(external_id="u-1-3")
        assert waiting.processed and not await Message.filter(reply_to_id=waiting.id).exists()


async def test_a_hand_over_the_desk_cannot_make_stores_the_message_alone_and_hands_over_after(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        first = await gw.services.accept(said("你好", 1))
        await gw.services.pipeline.drain()
        service, lock = gw.services.conversations, gw.services.conversations.queue_lock
        refused = []

        def once_unavailable() -> Any:
            if not refused:
                refused.append(1)
                raise ConnectionError("the queue lock could not be taken")
            return lock()

        service.queue_lock = once_unavailable
        accepted = await gw.services.accept(said("人工", 2))
        await gw.services.pipeline.drain()
        assert refused and accepted.message_id and not accepted.duplicate
        [asked] = await Message.filter(external_id="u-1-2")
        assert asked.processed and (await Conversation.get(id=first.conversation_id)).state == "queued"
        assert await Message.filter(reply_to_id=asked.id, sender="system").count() == 1


async def test_an_answer_decided_before_the_conversation_changed_is_not_stored(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        agent, _ = await add_agent("carol", status="online")
        first = await gw.services.accept(said("你好", 1))
        await gw.services.pipeline.drain()
        # An agent takes it through the API's path: the store's copy still says the bot has it.
        await gw.services.conversations.take(await Conversation.get(id=first.conversation_id), agent)
        accepted = await gw.services.accept(said("怎么退货", 2))
        await gw.services.pipeline.drain()
        [message] = await Message.filter(id=accepted.message_id)
        assert message.processed and not await Message.filter(reply_to_id=message.id, sender="bot").exists()


async def test_a_message_decided_before_it_is_stored_keeps_its_place(tmp_path, database_url):
    slow = HeldReplies(lambda _: "slowly answered", only="slow")
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE,
                               extra_plugins=[("held", slow)]) as gw:
        await gw.services.accept(said("你好", 1))
        await gw.services.pipeline.drain()
        first = asyncio.create_task(gw.services.accept(said("slow", 2)))
        await slow.asked.wait()
        # The next message waits until the first is stored (alone, once its answer is late).
        second = await gw.services.accept(said("下单后多久发货？", 3))
        slow.release.set()
        assert (await first).message_id < second.message_id
        await gw.services.pipeline.drain()
        [answer] = await Message.filter(reply_to_id=(await first).message_id)
        assert answer.text == "slowly answered"
        assert await Message.filter(reply_to_id=second.message_id, sender="bot").exists()

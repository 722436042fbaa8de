"""Closing by the customer, the 1-5 rating after a close, and the next message starting afresh."""

from __future__ import annotations

from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Conversation, Message
from csgw.testing import running_gateway

FAKE = [{"plugin": "fake", "account": "shop"}]


def said(text: str, n: int) -> InboundMessage:
    return InboundMessage("fake", "shop", "u-1", text, f"m-{n}")


async def test_customer_ends_rates_and_comes_back_to_the_bot(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        first = await gw.services.accept(said("下单后多久发货", 1))
        await gw.services.accept(said("结束", 2))
        sent = await gw.fake("shop").wait_sent(2)
        assert sent[-1].sender == "system" and "1-5" in sent[-1].text
        closed = await Conversation.get(id=first.conversation_id)
        assert closed.state == "closed" and closed.closed_at is not None

        rating = await gw.services.accept(said("5", 3))
        assert rating.conversation_id == first.conversation_id
        sent = await gw.fake("shop").wait_sent(3)
        assert "感谢您的评价" in sent[-1].text
        assert (await Conversation.get(id=first.conversation_id)).satisfaction == 5

        again = await gw.services.accept(said("4", 4))  # already rated: a new conversation with the bot
        assert again.conversation_id != first.conversation_id
        assert (await Conversation.get(id=again.conversation_id)).state in ("bot", "queued", "assigned")


async def test_a_digit_long_after_the_close_is_a_new_conversation(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE, reply={"survey_window_seconds": 0}) as gw:
        first = await gw.services.accept(said("你好", 1))
        await gw.services.accept(said("结束", 2))
        await gw.fake("shop").wait_sent(2)
        later = await gw.services.accept(said("3", 3))
        assert later.conversation_id != first.conversation_id
        assert (await Conversation.get(id=first.conversation_id)).satisfaction is None


async def test_a_message_left_by_a_crash_in_a_conversation_closed_since_is_settled_quietly(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw:
        first = await gw.services.accept(said("你好", 1))
        await gw.fake("shop").wait_sent(1)
        left = await gw.services.store.store_inbound(said("还有一个问题", 2))  # stored, then the crash
        conversation = await Conversation.get(id=first.conversation_id)
        await gw.services.conversations.close(conversation)  # an agent closes it before the restart
        sent_before = len(gw.fake("shop").sent)
        assert await gw.services.pipeline.recover() == 1  # no ValueError from int("还有一个问题")
        assert (await Message.get(id=left.message_id)).processed
        assert await gw.services.pipeline.recover() == 0
        closed = await Conversation.get(id=first.conversation_id)
        assert closed.satisfaction is None and len(gw.fake("shop").sent) == sent_before + 1  # the close note only


async def test_a_rating_is_marked_on_the_message_that_gives_it(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw:
        await gw.services.accept(said("下单后多久发货", 1))  # the bot serves: the close asks for a rating
        await gw.services.accept(said("结束", 2))
        await gw.fake("shop").wait_sent(2)  # the answer, the close note
        rating = await gw.services.accept(said(" 4 ", 3))
        assert (await Message.get(id=rating.message_id)).payload == {"rating": 4}
        await gw.fake("shop").wait_sent(3)  # the thanks
        assert (await Conversation.get(id=rating.conversation_id)).satisfaction == 4

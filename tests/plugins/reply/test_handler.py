from __future__ import annotations

import dataclasses

from csgw.gateway.reply import Reply, ReplyContext, ReplyHandler
from csgw.plugins.reply import KnowledgeBaseReplies, ReplyEngine
from csgw.plugins.reply.handler import to_reply
from csgw.plugins.reply.kb import KnowledgeBase
from csgw.plugins.reply.query_encoder import QueryEncoder
from tests.plugins.reply.fake_embedder import CharEmbedder


def context(text: str, bot_state: dict | None = None, **changes: object) -> ReplyContext:
    base = ReplyContext(conversation_id=1, customer_id=2, channel="webchat", account="site",
                        text=text, kind="text", payload={}, bot_state=bot_state or {})
    return dataclasses.replace(base, **changes)


def test_is_a_reply_handler(engine: ReplyEngine) -> None:
    handler: ReplyHandler = KnowledgeBaseReplies(engine, priority=50)
    assert handler.name == "kb" and handler.priority == 50


async def test_answers_from_the_kb(engine: ReplyEngine) -> None:
    reply = await KnowledgeBaseReplies(engine).reply(context("可以机洗吗"))
    assert isinstance(reply, Reply)
    assert (reply.source, reply.entry_id, reply.handover) == ("keyword", "care", False)
    assert reply.text.startswith("建议冷水手洗") and reply.group == "其他"
    assert reply.bot_state == {}


async def test_channel_answer(engine: ReplyEngine) -> None:
    reply = await KnowledgeBaseReplies(engine).reply(context("什么时候发货", channel="email"))
    assert reply is not None and reply.text.startswith("您好，现货订单")


async def test_menu_state_round_trips_through_the_conversation(engine: ReplyEngine) -> None:
    handler = KnowledgeBaseReplies(engine)
    first = await handler.reply(context("发票", bot_state={"survey": "pending"}))
    assert first is not None and first.source == "clarify" and first.payload["menu"]["options"]
    number = next(o["number"] for o in first.payload["menu"]["options"] if o["key"] == "e:invoice")
    second = await handler.reply(context(number, bot_state=first.bot_state))
    assert second is not None and second.source == "menu" and second.entry_id == "invoice"
    assert second.bot_state["survey"] == "pending"


async def test_hands_over(engine: ReplyEngine) -> None:
    reply = await KnowledgeBaseReplies(engine).reply(context("转人工"))
    assert reply is not None and reply.handover and reply.text and reply.payload == {"handover": "person"}


async def test_language_comes_from_the_conversation(engine: ReplyEngine) -> None:
    reply = await KnowledgeBaseReplies(engine).reply(context("转人工", language="en"))
    assert reply is not None and reply.text.startswith("Connecting you")


async def test_nothing_to_say_is_none(engine: ReplyEngine) -> None:
    handler = KnowledgeBaseReplies(engine)
    assert await handler.reply(context("", kind="image")) is None
    # an acknowledgement is handled (no hand-over) with nothing to send
    ack = await handler.reply(context("好的"))
    assert ack is not None and ack.text is None and not ack.handover and ack.source == "smalltalk"
    assert await handler.reply(context("🙂")) is None


async def test_the_category_becomes_a_tag_for_the_conversation(engine: ReplyEngine) -> None:
    handler = KnowledgeBaseReplies(engine)
    reply = await handler.reply(context("退货运费要我自己出吗"))
    assert reply is not None and reply.tags == ("售后/退换",)
    nothing = await handler.reply(context("今天天气怎么样"))
    assert nothing is not None and nothing.tags == ()


async def test_the_reply_names_the_question_s_category_even_unanswered(engine: ReplyEngine) -> None:
    handler = KnowledgeBaseReplies(engine)
    answered = await handler.reply(context("退货运费要我自己出吗"))
    assert answered is not None and answered.payload["category"] == "售后/退换"
    asked_back = await handler.reply(context("发票"))
    assert asked_back is not None and asked_back.source == "clarify" and asked_back.payload["category"] == "支付/发票"
    # no match: the category it came nearest to, for the report, but no tag (it may be far)
    missed = await handler.reply(context("你们的退货地址在哪个城市的仓库"))
    assert missed is not None and missed.source == "none" and missed.tags == ()
    assert missed.payload["category"] == "订单/物流"  # nearest: 换个收货地址
    handed = await handler.reply(context("你们的退货地址在哪个城市的仓库呢", bot_state=missed.bot_state))  # second miss
    assert handed is not None and handed.handover and handed.payload["category"] == handed.group


async def test_the_model_runs_only_for_what_retrieval_decides(shop_kb: KnowledgeBase) -> None:
    embedder = CharEmbedder()
    engine = ReplyEngine.from_kb(shop_kb, embedder=embedder)
    encoder = QueryEncoder(embedder, queue=4, timeout=30)
    handler = KnowledgeBaseReplies(engine, encoder=encoder)
    try:
        menu = await handler.reply(context("发票"))  # asked back
        assert menu is not None and menu.source == "clarify"
        encoded = encoder.encoded
        by_words = [await handler.reply(context(text, bot_state=state)) for text, state in (
            ("可以机洗吗", None), ("1", menu.bot_state), ("转人工", None), ("谢谢", None))]
        assert [r.source for r in by_words if r] == ["keyword", "menu", "handover", "smalltalk"]
        assert encoder.encoded == encoded  # none of them uses the message's meaning
        text = "我买的衣服想问问"
        answered = await handler.reply(context(text))
        assert encoder.encoded == encoded + 1
        expected = to_reply(engine.match(text, channel="webchat/site", vector=engine.vector(text)))
        assert answered == expected  # as if the vector had been asked for every message
    finally:
        encoder.close()

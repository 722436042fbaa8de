"""A WeChat customer rates with a digit, is invited to comment, and the next text is the comment
(or, asking something after a good rating, a new question): through the real wechat_oa channel,
pushed by the fake platform. The bot answers in the HTTP response; the thanks for a rating or a
comment come through the customer-service API (the outbox), as the rating's thanks always did."""

from __future__ import annotations

from csgw.gateway.models import Conversation, Message
from csgw.gateway.texts import text
from tests.plugins.wechat.wechat_testkit import oa_gateway, wait_until


def sent_to(platform, openid: str, words: str) -> bool:
    return any(sent.get("text", {}).get("content") == words and sent["touser"] == openid for sent in platform.oa.sent)


async def closed_after_an_answer(platform, openid: str) -> Conversation:
    answered = await platform.oa.user_says("wx1", openid, "下单后多久发货？")
    assert "48小时内发货" in (answered.text or "")
    await platform.oa.user_says("wx1", openid, "结束")
    await wait_until(lambda: sent_to(platform, openid, text("conversation.closed")))  # asked for a rating
    conversation = await Conversation.filter(state="closed").order_by("-id").first()
    assert conversation is not None
    return conversation


async def test_a_digit_then_a_complaint_is_the_rating_and_its_comment(tmp_path, platform, database_url):
    async with oa_gateway(tmp_path, platform, database_url):
        closed = await closed_after_an_answer(platform, "o1")
        await platform.oa.user_says("wx1", "o1", "2")
        await wait_until(lambda: sent_to(platform, "o1", text("survey.thanks") + text("survey.comment_invite")))
        await platform.oa.user_says("wx1", "o1", "为什么客服这么久才回？")
        await wait_until(lambda: sent_to(platform, "o1", text("survey.comment_thanks")))
        rated = await Conversation.get(id=closed.id)
        assert (rated.satisfaction, rated.satisfaction_comment) == (2, "为什么客服这么久才回？")
        assert await Conversation.filter(state__not="closed").count() == 0  # no new conversation for it
        comment = await Message.filter(conversation_id=closed.id, text="为什么客服这么久才回？").first()
        assert comment is not None and comment.payload.get("rating_comment") is True


async def test_a_question_after_a_good_rating_gets_its_answer(tmp_path, platform, database_url):
    async with oa_gateway(tmp_path, platform, database_url):
        closed = await closed_after_an_answer(platform, "o2")
        await platform.oa.user_says("wx1", "o2", "5")
        await wait_until(lambda: sent_to(platform, "o2", text("survey.thanks") + text("survey.comment_invite")))
        answered = await platform.oa.user_says("wx1", "o2", "下单后多久发货呢？")
        assert "48小时内发货" in (answered.text or "")
        assert (await Conversation.get(id=closed.id)).satisfaction_comment is None
        assert await Conversation.filter(state__not="closed").count() == 1

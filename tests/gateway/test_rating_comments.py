"""A rating's comment: the text after a rating by message (the rule of `gateway/rating_comments.py`),
the widget's survey frame with its comment, what is stored, refused or trimmed, and the
`satisfaction.rated` events. Through the real gateway: a message channel (the fake, as WeChat
would deliver) and widget sockets."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest

from csgw.gateway.channel import InboundMessage
from csgw.gateway.clock import now
from csgw.gateway.models import Conversation, Message
from csgw.gateway.rating_comments import (
    MAX_COMMENT,
    CommentError,
    clean_comment,
    looks_like_question,
    takes_comment,
)
from csgw.gateway.ratings import latest_comments
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.texts import text
from csgw.testing import RunningGateway, running_gateway
from tests.gateway.helpers import AgentClient, Visitor, add_agent, wait_for_condition

FAKE = [{"plugin": "fake", "account": "shop"}]
WEBCHAT = [{"plugin": "webchat", "account": "default"}]
INVITE = text("survey.comment_invite")
THANKS = text("survey.comment_thanks")


class Customer:
    """One customer of the fake channel (delivered as WeChat would), who is served, closes and rates."""

    def __init__(self, gw: RunningGateway, user: str = "u-1") -> None:
        self.gw, self.user, self.count = gw, user, 0

    async def say(self, words: str) -> Conversation:
        self.count += 1
        accepted = await self.gw.services.accept(InboundMessage("fake", "shop", self.user, words,
                                                                f"{self.user}-{self.count}"))
        await self.gw.services.pipeline.drain()
        return await Conversation.get(id=accepted.conversation_id)

    async def served_and_closed(self) -> Conversation:
        served = await self.say("下单后多久发货")  # the bot answers from the KB: the close asks for a rating
        closed = await self.say("结束")
        assert closed.id == served.id and closed.state == "closed"
        return closed

    async def told(self, words: str) -> None:
        """Wait until the fake channel delivered `words` to the customer (through the outbox)."""
        async def delivered() -> bool:
            return any(m.text == words and m.user_id == self.user for m in self.gw.fake("shop").sent)

        await wait_for_condition(delivered)

    async def told_containing(self, part: str) -> None:
        async def delivered() -> bool:
            return any(part in m.text and m.user_id == self.user for m in self.gw.fake("shop").sent)

        await wait_for_condition(delivered)


def rated_events(gw: RunningGateway) -> list[dict]:
    events: list[dict] = []
    gw.services.events.observe(lambda event: events.append(event["data"])
                               if event["type"] == "satisfaction.rated" else None)
    return events


def test_a_comment_is_cleaned_trimmed_or_refused():
    assert clean_comment("  等了\t很久\r\n\n\n\n还没人回  ") == "等了 很久\n\n还没人回"
    assert clean_comment("a\x00b\x07c\u202eevil\u2066") == "abcevil"  # controls and direction overrides out
    assert clean_comment("👨\u200d👩\u200d👧 很好") == "👨\u200d👩\u200d👧 很好"  # emoji sequences stay whole
    assert clean_comment("e\u0301") == "\u00e9"  # NFC
    assert clean_comment(" \n\x00 ") is None
    long = "慢" * 10_000
    trimmed = clean_comment(long)
    assert trimmed is not None and len(trimmed) == MAX_COMMENT and trimmed.endswith("…")
    with pytest.raises(CommentError, match="at most 500"):
        clean_comment(long, trim=False)


@pytest.mark.parametrize(("words", "question"), [
    ("请问运费怎么算", True), ("能开发票吗", True), ("可以退款么？", True), ("在哪里下单", True), ("订单到哪了呢", True),
    ("转人工", True), ("How long does shipping take", True), ("运费多少?", True),
    ("服务很好，谢谢", False), ("等太久了", False), ("客服态度不错", False), ("Great service", False),
])
def test_what_looks_like_a_question(words, question):
    assert looks_like_question(words) is question


def test_which_text_after_a_rating_is_its_comment():
    assert takes_comment("为什么没人回复？", 2)  # unhappy: even a question is most likely saying why
    assert takes_comment("服务很好", 5) and takes_comment("服务很好", 2)
    assert not takes_comment("请问还能开发票吗？", 5)  # happy and asking: a new question
    assert not takes_comment("4", 2) and not takes_comment("  ", 1)  # a lone number (a menu choice, a rating) never


async def test_a_text_after_a_low_rating_is_its_comment_and_is_announced(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        events = rated_events(gw)
        customer = Customer(gw)
        closed = await customer.served_and_closed()
        rated = await customer.say("2")
        assert rated.id == closed.id and rated.satisfaction == 2 and rated.rated_at is not None
        await customer.told(text("survey.thanks") + INVITE)  # one message: thanks, then the invitation
        commented = await customer.say("为什么等了半个小时才有人回？")
        assert commented.id == closed.id and commented.state == "closed"
        assert commented.satisfaction_comment == "为什么等了半个小时才有人回？"
        await customer.told(THANKS)
        message = await Message.filter(conversation_id=closed.id, direction="in").order_by("-id").first()
        assert message is not None and message.payload == {"rating_comment": True} and message.processed
        assert [(e["conversation_id"], e["score"], e["comment"]) for e in events] == [
            (closed.id, 2, None), (closed.id, 2, "为什么等了半个小时才有人回？")]
        assert events[1]["message_id"] == message.id
        again = await customer.say("还有，快递也很慢")  # one comment: the next text starts afresh
        assert again.id != closed.id and again.state != "closed"
        [latest] = await latest_comments(Sql(), now() - timedelta(hours=1), now() + timedelta(hours=1))
        assert (latest["conversation_id"], latest["score"], latest["comment"]) == (
            closed.id, 2, "为什么等了半个小时才有人回？")


async def test_a_question_after_a_good_rating_is_answered_not_swallowed(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        customer = Customer(gw)
        closed = await customer.served_and_closed()
        await customer.say("5")
        asked = await customer.say("请问可以开发票吗？")
        assert asked.id != closed.id and asked.state != "closed"
        assert (await Conversation.get(id=closed.id)).satisfaction_comment is None
        await customer.told_containing("申请开票")  # the bot answered it as a new question
        other = Customer(gw, "u-2")
        closed = await other.served_and_closed()
        await other.say("5")
        praised = await other.say("服务很好，谢谢！")
        assert praised.id == closed.id and praised.satisfaction_comment == "服务很好，谢谢！"


async def test_no_comment_after_the_window_or_when_the_shop_asks_none(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        customer = Customer(gw)
        closed = await customer.served_and_closed()
        await customer.say("1")
        await Conversation.filter(id=closed.id).update(rated_at=now() - timedelta(seconds=301))  # the window is 300 s
        late = await customer.say("太慢了")
        assert late.id != closed.id and (await Conversation.get(id=closed.id)).satisfaction_comment is None
    async with running_gateway(tmp_path / "none", channels=FAKE, reply={"comment_window_seconds": 0}) as gw:
        customer = Customer(gw)
        closed = await customer.served_and_closed()
        await customer.say("1")
        await customer.told(text("survey.thanks"))  # not invited
        assert (await customer.say("太慢了")).id != closed.id


async def test_a_long_or_odd_comment_is_cleaned_and_trimmed_and_the_message_kept_whole(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        customer = Customer(gw)
        closed = await customer.served_and_closed()
        await customer.say("3")
        essay = "\u202e反过来\u202c等了很久\x07。" + "真的很慢" * 2500  # 10 kB and more
        commented = await customer.say(essay)
        assert commented.id == closed.id
        comment = commented.satisfaction_comment
        assert comment is not None and len(comment) == MAX_COMMENT and comment.endswith("…")
        assert comment.startswith("反过来等了很久。真的很慢")
        stored = await Message.filter(conversation_id=closed.id, direction="in").order_by("-id").first()
        assert stored is not None and stored.text == essay.strip()  # the message itself as received


async def served_widget_conversation(gw: RunningGateway, session: aiohttp.ClientSession, visitor: Visitor) -> int:
    """The visitor asks, the bot answers from the KB, an agent closes: the widget shows the survey."""
    await visitor.say("c1", "下单后多久发货")
    await visitor.receive_until(lambda f: f["type"] == "message" and f["from"] == "bot")
    conversation = await Conversation.filter(channel="webchat").order_by("-id").first()
    assert conversation is not None
    _, token = await add_agent("boss", role="supervisor")
    await AgentClient(session, gw.url, token).call("POST", f"/conversations/{conversation.id}/close", expect=200)
    await visitor.receive_until(lambda f: f["type"] == "survey")
    return conversation.id


async def test_the_widget_survey_takes_a_comment_with_its_score(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=WEBCHAT) as gw, \
            aiohttp.ClientSession() as session:
        events = rated_events(gw)
        visitor = await Visitor(session, gw.url, "visitor-comment-1").connect()
        conversation_id = await served_widget_conversation(gw, session, visitor)
        await visitor.ws.send_json({"type": "survey", "score": 2})
        assert await visitor.receive_until(lambda f: f["type"] == "survey_thanks") == {"type": "survey_thanks",
                                                                                         "comment": False}
        await visitor.ws.send_json({"type": "survey", "score": 2, "comment": "  客服\u202e回复太慢\x00了 \n\n\n\n下次快点  "})
        assert (await visitor.receive_until(lambda f: f["type"] == "survey_thanks"))["comment"] is True
        rated = await Conversation.get(id=conversation_id)
        assert (rated.satisfaction, rated.satisfaction_comment) == (2, "客服回复太慢了\n\n下次快点")
        assert [(e["score"], e["comment"]) for e in events] == [(2, None), (2, "客服回复太慢了\n\n下次快点")]
        await visitor.ws.send_json({"type": "survey", "score": 3})  # the stars again, no comment: it stays
        await visitor.receive_until(lambda f: f["type"] == "survey_thanks")
        rated = await Conversation.get(id=conversation_id)
        assert (rated.satisfaction, rated.satisfaction_comment) == (3, "客服回复太慢了\n\n下次快点")
        _, token = await add_agent("reader")
        view = await AgentClient(session, gw.url, token).call("GET", f"/conversations/{conversation_id}", expect=200)
        assert (view["satisfaction"], view["satisfaction_comment"]) == (3, "客服回复太慢了\n\n下次快点")
        assert view["rated_at"] is not None


@pytest.mark.parametrize(("frame", "code"), [
    ({"type": "survey", "comment": "没有评分的留言"}, "bad_score"),
    ({"type": "survey", "score": 0, "comment": "x"}, "bad_score"),
    ({"type": "survey", "score": 4, "comment": "长" * (MAX_COMMENT + 1)}, "comment_too_long"),
    ({"type": "survey", "score": 4, "comment": "x" * 10_240}, "comment_too_long"),
    ({"type": "survey", "score": 4, "comment": ["a list"]}, "bad_comment"),
])
async def test_the_widget_refuses_a_bad_comment_and_changes_nothing(tmp_path, frame, code):
    async with running_gateway(tmp_path, channels=WEBCHAT) as gw, aiohttp.ClientSession() as session:
        visitor = await Visitor(session, gw.url, "visitor-comment-2").connect()
        conversation_id = await served_widget_conversation(gw, session, visitor)
        await visitor.ws.send_json(frame)
        refused = await visitor.receive_until(lambda f: f["type"] in ("error", "survey_thanks"))
        assert refused["type"] == "error" and refused["code"] == code, refused
        rated = await Conversation.get(id=conversation_id)
        assert (rated.satisfaction, rated.satisfaction_comment) == (None, None)


async def test_the_widget_refuses_a_lone_surrogate_and_rates_only_a_closed_conversation(tmp_path):
    async with running_gateway(tmp_path, channels=WEBCHAT) as gw, aiohttp.ClientSession() as session:
        visitor = await Visitor(session, gw.url, "visitor-comment-3").connect()
        await visitor.ws.send_json({"type": "survey", "score": 5})  # nothing of theirs yet
        assert (await visitor.receive_until(lambda f: f["type"] == "error"))["code"] == "no_conversation"
        conversation_id = await served_widget_conversation(gw, session, visitor)
        await visitor.ws.send_str('{"type": "survey", "score": 4, "comment": "bad \\ud800 half"}')
        assert (await visitor.receive_until(lambda f: f["type"] == "error"))["code"] == "bad_comment"
        await visitor.say("c2", "还有一个问题")  # a new conversation: the old survey no longer rates anything
        await visitor.ws.send_json({"type": "survey", "score": 5, "comment": "好"})
        assert (await visitor.receive_until(lambda f: f["type"] == "error"))["code"] == "no_conversation"
        assert (await Conversation.get(id=conversation_id)).satisfaction is None

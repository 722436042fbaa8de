"""The reply engine as a visitor meets it: the widget over a real WebSocket against the real server."""

from __future__ import annotations

import aiohttp

from csgw.gateway.models import Conversation
from csgw.plugins.demo import DEMO_KB
from csgw.plugins.reply.kb import load_kb
from csgw.testing import running_gateway
from tests.gateway.helpers import Visitor, wait_for_condition

WEBCHAT = [{"plugin": "webchat", "account": "default"}]


def bot_message(frame: dict) -> bool:
    return frame["type"] == "message" and frame["from"] == "bot"


async def test_answer_clarify_menu_and_handover(tmp_path, database_url):
    answers = {entry.id: entry.answer for entry in load_kb(DEMO_KB).entries}
    async with running_gateway(tmp_path, database_url=database_url, channels=WEBCHAT) as gw, \
            aiohttp.ClientSession() as session:
        visitor = await Visitor(session, gw.url, "visitor-kb-1").connect()

        ack = await visitor.say("q1", "亲，下单以后多久能发货呀😊")
        answer = await visitor.receive_until(bot_message)
        assert answer["text"] == answers["ship-time"] and "choices" not in answer

        await visitor.say("q2", "优惠")  # one word, three entries: ask which one
        asked = await visitor.receive_until(bot_message)
        titles = [choice["label"] for choice in asked["choices"]]
        assert len(titles) >= 2 and "优惠券怎么使用？" in titles
        pick = next(c["key"] for c in asked["choices"] if c["label"] == "优惠券怎么使用？")
        await visitor.say("q3", pick)  # what a button sends
        chosen = await visitor.receive_until(bot_message)
        assert chosen["text"].startswith(answers["coupon-use"])

        await visitor.say("q4", "你好")  # a greeting shows the top of the menu
        top = await visitor.receive_until(bot_message)
        assert [c["label"] for c in top["choices"]][:2] == ["售前", "订单"]
        await visitor.say("q5", top["choices"][0]["key"])  # descend into 售前
        presale = await visitor.receive_until(bot_message)
        assert [c["label"] for c in presale["choices"]] == ["商品", "优惠"]
        await visitor.say("q6", "0")  # back up
        back = await visitor.receive_until(bot_message)
        assert back["choices"] == top["choices"]

        await visitor.say("q7", "火星基地收得到吗")  # unknown: the menu once more
        retry = await visitor.receive_until(bot_message)
        assert retry["text"].startswith("抱歉") and retry["choices"] == top["choices"]
        await visitor.say("q8", "火箭燃料怎么买")  # unknown again: a person takes over
        handed = await visitor.receive_until(bot_message)
        assert "转接人工客服" in handed["text"]

        async def waiting_for_a_person() -> bool:
            return (await Conversation.get(id=ack["conversation_id"])).state == "queued"

        await wait_for_condition(waiting_for_a_person)
        await visitor.close()

"""`[texts.LANGUAGE]` reaches the customer: a gateway started with the shop's wording sends it at
every step (hand-over, queue, its updates, the VIP lane, closing, the rating's thanks, binding), in the
server's language, through the real pipeline and timers."""

from __future__ import annotations

from datetime import timedelta

from csgw.gateway.binding import make_code
from csgw.gateway.clock import now
from csgw.gateway.models import Conversation
from tests.gateway.helpers import AgentClient, add_agent
from tests.routing.conftest import shop
from tests.routing.test_vip import FAST, make_vip

SHOP_WORDING = {
    "zh-Hans": {
        "handover": {"assigned": "{agent} 来为您服务啦", "offline": "现在没人在，留言即可"},  # a nested table
        "handover.queued": "排队中，前面 {ahead} 位",  # a dotted key; {minutes} left out
        "conversation.closed": "谢谢光临！回复 1-5 打分",
        "conversation.ended": "会话结束，再见",
        "survey.thanks": "多谢您的评分",
        "queue.position": "最新排位：前面 {ahead} 位",
    },
    "en": {"vip.waiting": "Hold on, {agent} is on the way", "vip.fallback": "Someone else will help you"},
}


async def test_nobody_online_hears_the_shops_offline_text(tmp_path):
    async with shop(tmp_path, texts=SHOP_WORDING) as s:
        await s.say("early", "转人工")
        await s.wait_text("early", "现在没人在，留言即可")
        assert s.texts_to("early") == ["现在没人在，留言即可"]


async def test_hand_over_queue_close_and_thanks_in_the_shops_wording(tmp_path, database_url):
    # the assignment timer runs fast: it sends the queue update once a place moves
    timers = {"tick_seconds": 0.05, "queue_update_seconds": 0.01}
    async with shop(tmp_path, database_url=database_url, texts=SHOP_WORDING, assignment=timers) as s:
        _, token = await add_agent("busy", status="online", max_concurrent=1)
        first = await s.say("u1", "转人工")
        await s.say("u2", "转人工")
        await s.say("u3", "转人工")
        for user in ("u1", "u2", "u3"):
            await s.wait_text(user, "")
        assert s.texts_to("u1") == ["Busy 来为您服务啦"]
        assert s.texts_to("u2") == ["排队中，前面 0 位"]
        assert s.texts_to("u3") == ["排队中，前面 1 位"]

        await AgentClient(s.session, s.gw.url, token).call(
            "POST", f"/conversations/{first.id}/messages", {"text": "您好"}, expect=201)
        await s.say("u1", "结束")  # served by the agent: asked to rate
        await s.wait_text("u1", "谢谢光临！回复 1-5 打分")
        await s.say("u1", "5")
        await s.wait_text("u1", "多谢您的评分")
        await s.wait_text("u2", "Busy 来为您服务啦")  # the freed place goes to u2 ...
        await s.wait_text("u3", "最新排位：前面 0 位")  # ... and u3 hears it moved

        second = await Conversation.get(state="assigned")
        await s.services.conversations.close(second)  # nobody wrote to u2: not asked to rate
        await s.wait_text("u2", "会话结束，再见")


async def test_the_vip_lane_speaks_the_shops_english(tmp_path):
    async with shop(tmp_path, texts=SHOP_WORDING, server={"language": "en"},
                    assignment={**FAST, "vip_wait_seconds": 0.4}) as s:
        mine, _ = await add_agent("mine", status="away")
        await add_agent("backup", status="online")
        await make_vip(s, "vip", vip=True, exclusive_agent_id=mine.id)
        await s.say("vip", "在吗")
        await s.wait_text("vip", "Hold on, Mine is on the way")
        await s.wait_text("vip", "Someone else will help you", timeout=5)
        await s.wait_text("vip", "You are now connected to Backup")  # no English wording of its own: built in


async def test_binding_answers_in_the_shops_wording(tmp_path):
    wording = {"zh-Hans": {"binding": {"bad_code": "这个绑定码不对哦", "done": "绑好啦"}}}
    async with shop(tmp_path, customers={"binding_secret": "secret"}, texts=wording) as s:
        code = make_code("secret", "member-7", now() + timedelta(hours=1))
        await s.say("u1", f"绑定 {code[:-2]}{'BB' if code.endswith('AA') else 'AA'}")
        await s.wait_text("u1", "这个绑定码不对哦")
        await s.say("u1", f"绑定 {code}")
        await s.wait_text("u1", "绑好啦")

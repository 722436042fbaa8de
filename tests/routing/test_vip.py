"""VIP customers: no bot, no queue, their exclusive agent — or a bounded wait, then the group."""

from __future__ import annotations

from csgw.gateway.models import Conversation, Customer
from csgw.plugins.webchat.identity import sign_visitor
from tests.gateway.helpers import AgentClient, Visitor, add_agent, wait_for_condition
from tests.routing.conftest import shop

FAST = {"tick_seconds": 0.05, "away_after_seconds": 0}


async def make_vip(s, user: str, **profile) -> Conversation:
    """The customer's first, bot-answered conversation, closed; then the profile is set."""
    first = await s.say(user, "问一下营业时间")
    assert first.state == "bot"
    await s.services.conversations.close(first)
    await Customer.filter(id=first.customer_id).update(**profile)
    return first


async def test_vip_skips_bot_and_queue_to_exclusive_agent(tmp_path):
    async with shop(tmp_path) as s:
        mine, _ = await add_agent("mine", max_concurrent=5, status="online")
        other, _ = await add_agent("other", max_concurrent=1, status="online")
        await s.say("q1", "转人工")
        await s.say("q2", "转人工")
        await s.say("q3", "转人工")  # a queue has formed ahead of the VIP
        await make_vip(s, "vip", tags=["VIP"], exclusive_agent_id=mine.id)
        conversation = await s.say("vip", "问一下营业时间")  # the bot would answer this
        assert conversation.state == "assigned" and conversation.agent_id == mine.id
        assert conversation.flags.get("vip") is True
        assert "机器人的回答" not in s.texts_to("vip")[-1:]


async def test_a_signed_visitor_new_to_csgw_but_a_vip_member_goes_to_their_agent(tmp_path):
    """The visitor's customer record is brand new, then binding merges the VIP member into it:
    the VIP lane must see the merged profile, not the empty one it was created with."""
    site = {"plugin": "webchat", "account": "site", "identity_secret": "site-secret"}
    async with shop(tmp_path, channels=[{"plugin": "fake", "account": "shop"}, site]) as s:
        mine, _ = await add_agent("mine", status="online")
        member = await make_vip(s, "wx-vip", tags=["VIP"], exclusive_agent_id=mine.id, shop_user_id="member-3003")
        visitor = await Visitor(s.session, s.gw.url, "member-3003", site="site",
                                sig=sign_visitor("site-secret", "member-3003")).connect()
        try:
            ack = await visitor.say("c1", "问一下营业时间")  # the bot would answer this
        finally:
            await visitor.close()

        async def routed() -> bool:
            return (await Conversation.get(id=ack["conversation_id"])).agent_id == mine.id

        await wait_for_condition(routed)
        assert (await Conversation.get(id=ack["conversation_id"])).flags.get("vip") is True
        assert await Customer.get_or_none(id=member.customer_id) is None  # merged into the visitor's record


async def test_vip_by_spend_rule(tmp_path):
    async with shop(tmp_path, assignment={"vip_min_spend": 1000}) as s:
        mine, _ = await add_agent("mine", status="online")
        first = await make_vip(s, "big", orders=[{"id": "A1", "amount": 600}, {"id": "A2", "total": "500"}],
                               exclusive_agent_id=mine.id)
        conversation = await s.say("big", "问一下发票")
        assert conversation.customer_id == first.customer_id and conversation.agent_id == mine.id


async def test_vip_waits_for_away_agent_then_falls_back(tmp_path):
    async with shop(tmp_path, assignment={**FAST, "vip_wait_seconds": 0.4}) as s:
        mine, _ = await add_agent("mine", status="away")
        backup, _ = await add_agent("backup", status="online")
        await make_vip(s, "vip", vip=True, exclusive_agent_id=mine.id)
        conversation = await s.say("vip", "在吗")
        assert conversation.state == "queued" and conversation.agent_id == mine.id
        await s.wait_text("vip", "您的专属客服 Mine 暂时不在")
        await s.wait_text("vip", "专属客服暂时无法接待", timeout=5)

        async def with_backup() -> bool:
            return (await Conversation.get(id=conversation.id)).agent_id == backup.id

        await wait_for_condition(with_backup, timeout=5)
        assert (await Conversation.get(id=conversation.id)).flags["vip_fallback"] is True


async def test_vip_wait_ends_when_the_exclusive_agent_comes_online(tmp_path):
    async with shop(tmp_path, assignment={"vip_wait_seconds": 600}) as s:
        mine, token = await add_agent("mine", status="offline")
        await add_agent("backup", status="online")
        await make_vip(s, "vip", vip=True, exclusive_agent_id=mine.id)
        conversation = await s.say("vip", "在吗")
        assert conversation.state == "queued"
        await AgentClient(s.session, s.gw.url, token).call("PUT", "/me/status", {"status": "online"}, expect=200)
        now = await Conversation.get(id=conversation.id)
        assert (now.state, now.agent_id) == ("assigned", mine.id)


async def test_vip_falls_back_at_once_when_configured(tmp_path):
    async with shop(tmp_path, assignment={"vip_wait_seconds": 0}) as s:
        mine, _ = await add_agent("mine", status="offline")
        backup, _ = await add_agent("backup", status="online")
        await make_vip(s, "vip", vip=True, exclusive_agent_id=mine.id)
        conversation = await s.say("vip", "在吗")
        assert (conversation.state, conversation.agent_id) == ("assigned", backup.id)

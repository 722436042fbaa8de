"""Who gets a conversation: group/skill routing, least load, round robin, capacity, returning customers."""

from __future__ import annotations

from csgw.gateway.models import Agent, Conversation
from tests.gateway.helpers import AgentClient, add_agent
from tests.routing.conftest import shop


async def test_group_from_reply_channel_and_customer_state(tmp_path):
    channels = [{"plugin": "fake", "account": "shop", "group": "袜"}]
    async with shop(tmp_path, channels=channels, assignment={"state_groups": {"aftersale": "售后"}}) as s:
        shoes, _ = await add_agent("shoes", ["鞋"], status="online")
        socks, token = await add_agent("socks", ["袜"], status="online")
        after, _ = await add_agent("after", ["售后"], status="online")
        by_reply = await s.say("u1", "我想问鞋码")
        assert (by_reply.group, by_reply.agent_id) == ("鞋", shoes.id)
        by_channel = await s.say("u2", "转人工")
        assert (by_channel.group, by_channel.agent_id) == ("袜", socks.id)
        agent = AgentClient(s.session, s.gw.url, token)
        await agent.call("PATCH", f"/customers/{by_channel.customer_id}", {"state": "aftersale"}, expect=200)
        await agent.call("POST", f"/conversations/{by_channel.id}/close", expect=200)
        after_sale = await s.say("u2", "上次买的坏了")
        assert after_sale.id != by_channel.id
        # The state's group wins over the channel's, and over the previous agent, who is not in it.
        assert (after_sale.group, after_sale.agent_id) == ("售后", after.id)


async def test_least_load_ties_by_longest_idle_and_capacity_holds_under_concurrency(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        a, _ = await add_agent("a", max_concurrent=2, status="online")
        b, _ = await add_agent("b", max_concurrent=3, status="online")
        first = await s.say("u0", "转人工")
        assert first.agent_id == a.id  # nobody assigned yet: lowest id among equals
        second = await s.say("u1", "转人工")
        assert second.agent_id == b.id  # a has one, b none
        third = await s.say("u2", "转人工")
        assert third.agent_id == a.id  # 1 each: a waited longer since its last assignment
        rest = await s.say_all([(f"c{i}", "转人工") for i in range(12)])
        loads = {agent.id: await Conversation.filter(state="assigned", agent_id=agent.id).count() for agent in (a, b)}
        assert loads == {a.id: 2, b.id: 3}
        assert sum(c.state == "queued" for c in rest) == 12 - 2


async def test_round_robin_ignores_load(tmp_path):
    async with shop(tmp_path, assignment={"mode": "round_robin", "prefer_previous_agent": False}) as s:
        a, _ = await add_agent("a", status="online")
        b, _ = await add_agent("b", status="online")
        c, _ = await add_agent("c", status="online")
        got = [(await s.say(f"u{i}", "转人工")).agent_id for i in range(6)]
        assert got == [a.id, b.id, c.id, a.id, b.id, c.id]


async def test_returning_customer_gets_previous_agent_unless_offline(tmp_path):
    async with shop(tmp_path) as s:
        a, _ = await add_agent("a", status="online")
        b, b_token = await add_agent("b", status="online")
        await s.say("other", "转人工")  # a takes one, so least load alone would now pick b
        first = await s.say("vera", "转人工")
        assert first.agent_id == b.id
        bob = AgentClient(s.session, s.gw.url, b_token)
        await bob.call("POST", f"/conversations/{first.id}/close", expect=200)
        await s.say("x1", "转人工")  # b: 1 now, a: 1
        await s.say("x2", "转人工")
        back = await s.say("vera", "又是我")
        assert back.agent_id == b.id  # previous agent, though not the least loaded
        await bob.call("POST", f"/conversations/{back.id}/close", expect=200)
        await bob.call("PUT", "/me/status", {"status": "offline"}, expect=200)
        again = await s.say("vera", "还是我")
        assert again.agent_id == a.id
        assert (await Agent.get(id=b.id)).status == "offline"

"""The queue: priority then oldest, pulled at once when capacity frees, position told to the customer."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csgw.gateway.assignment_view import AssignmentView
from csgw.gateway.models import Agent, Conversation
from tests.gateway.helpers import AgentClient, add_agent
from tests.routing.conftest import shop


async def test_served_by_priority_then_oldest_never_newest_first(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        _, token = await add_agent("solo", max_concurrent=1)
        plain = [await s.say(f"p{i}", "转人工") for i in range(3)]
        complaint = await s.say("angry", "我要投诉")
        late = await s.say_all([(f"late{i}", "转人工") for i in range(4)])
        assert complaint.priority > plain[0].priority
        agent = AgentClient(s.session, s.gw.url, token)
        await agent.call("PUT", "/me/status", {"status": "online"}, expect=200)
        served = []
        for _ in range(8):
            [current] = (await agent.call("GET", "/conversations?state=assigned&agent=me", expect=200))["items"]
            served.append(current["id"])
            await agent.call("POST", f"/conversations/{current['id']}/close", expect=200)
        oldest_late = sorted(late, key=lambda c: (c.waiting_since, c.id))
        assert served == [complaint.id, *[c.id for c in plain], *[c.id for c in oldest_late]]


async def test_freed_capacity_pulls_the_next_at_once(tmp_path):
    async with shop(tmp_path) as s:
        one, token = await add_agent("one", ["鞋"], max_concurrent=1, status="online")
        waiting = [await s.say(f"u{i}", "看看鞋") for i in range(4)]
        assert [c.state for c in waiting] == ["assigned", "queued", "queued", "queued"]
        agent = AgentClient(s.session, s.gw.url, token)

        async def holder(conversation: Conversation) -> int | None:
            return (await Conversation.get(id=conversation.id)).agent_id

        await agent.call("POST", f"/conversations/{waiting[0].id}/close", expect=200)  # close frees
        assert await holder(waiting[1]) == one.id
        await agent.call("POST", f"/conversations/{waiting[1].id}/transfer", {"group": "袜"}, expect=200)
        assert await holder(waiting[2]) == one.id  # transfer frees
        await agent.call("PATCH", f"/agents/{one.id}", {"max_concurrent": 2}, expect=200)
        assert await holder(waiting[3]) == one.id  # max raised
        assert (await Agent.get(id=one.id)).max_concurrent == 2
        assert await Conversation.filter(state="assigned", agent_id=one.id).count() == 2


async def test_customer_told_position_and_expected_wait(tmp_path):
    async with shop(tmp_path, assignment={"expected_handle_seconds": 240}) as s:
        await add_agent("busy", max_concurrent=1, status="online")
        await s.say("first", "转人工")
        await s.say("second", "转人工")
        await s.say("third", "转人工")
        await s.wait_text("second", "前面还有 0 位，预计等待约 4 分钟")
        await s.wait_text("third", "前面还有 1 位，预计等待约 8 分钟")


async def test_nobody_online_says_so(tmp_path):
    async with shop(tmp_path, server={"language": "en"}) as s:
        await s.say("night", "help")
        await s.wait_text("night", "No one is online right now")


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=1, max_size=12),
       capacity=st.integers(1, 3))
def test_queue_property_no_conversation_lost_or_assigned_twice(tmp_path_factory, plan, capacity):
    """Customers (some complaining) arrive together; agents close one by one: each is served exactly once."""

    async def scenario() -> None:
        async with shop(tmp_path_factory.mktemp("q")) as s:
            _, token = await add_agent("a", max_concurrent=capacity, status="online")
            arrivals = [(f"u{i}-{n}", "我要投诉" if angry else "转人工")
                        for n, (i, angry) in enumerate(plan)]
            conversations = await s.say_all(arrivals)
            agent = AgentClient(s.session, s.gw.url, token)
            served: list[int] = []
            while len(served) < len(conversations):
                mine = (await agent.call("GET", "/conversations?state=assigned&agent=me", expect=200))["items"]
                assert 0 < len(mine) <= capacity
                served.append(mine[-1]["id"])
                await agent.call("POST", f"/conversations/{mine[-1]['id']}/close", expect=200)
            assert sorted(served) == sorted({c.id for c in conversations})
            assert await Conversation.filter(state__not="closed").count() == 0

    asyncio.run(scenario())


async def test_serving_the_queue_reads_past_a_page_nobody_free_can_take(tmp_path, monkeypatch):
    """The queue is served a page at a time: conversations no free agent can take stay in line and
    the ones behind them, pages further on, are still reached, first in line first."""
    monkeypatch.setattr("csgw.gateway.conversations.DISPATCH_PAGE", 2)
    async with shop(tmp_path) as s:
        await add_agent("shoes", ["鞋"], max_concurrent=1, status="online")
        served = await s.say("shoe-first", "看看鞋")
        shoes = [await s.say(f"shoe{i}", "看看鞋") for i in range(5)]  # the 鞋 agent is full
        anyone = [await s.say(f"any{i}", "转人工") for i in range(3)]
        assert served.state == "assigned"
        assert {(c.state, c.group) for c in shoes} == {("queued", "鞋")}
        assert {(c.state, c.group) for c in anyone} == {("queued", None)}
        general, _ = await add_agent("general", max_concurrent=2)
        read = []
        add_customers = AssignmentView.add_customers

        async def counted(view, conversations):
            read.append(len(conversations))
            await add_customers(view, conversations)

        monkeypatch.setattr(AssignmentView, "add_customers", counted)
        # general cannot take the five 鞋 conversations first in line; the two after them, pages on
        await s.services.conversations.set_agent_status(general, "online")
        assert [n for n in read if n] == [2, 2, 2, 2]  # a page at a time, none read once general is full
        after = {c.id: await Conversation.get(id=c.id) for c in [*shoes, *anyone]}
        assert [after[c.id].agent_id for c in anyone] == [general.id, general.id, None]
        assert {after[c.id].state for c in shoes} == {"queued"}

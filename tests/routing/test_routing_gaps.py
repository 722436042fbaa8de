"""Agents back from an automatic away, transfers checked against the target's status and capacity,
and queued customers told when their place moves."""

from __future__ import annotations

from datetime import timedelta

import aiohttp

from csgw.gateway.clock import now
from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.models import Agent, Conversation
from csgw.plugins.assignment import queue_notices
from csgw.plugins.assignment.queue_notices import QueuePositionNotices
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent, wait_for_condition
from tests.routing.conftest import shop

FAST = {"tick_seconds": 0.05}


async def status_of(agent: Agent) -> str:
    return (await Agent.get(id=agent.id)).status


async def wait_status(agent: Agent, status: str) -> None:
    async def reached() -> bool:
        return await status_of(agent) == status

    await wait_for_condition(reached, timeout=5)


async def test_auto_away_agent_is_back_on_the_next_heartbeat_but_chosen_away_stays(tmp_path):
    async with shop(tmp_path, assignment={**FAST, "away_after_seconds": 0.3}) as s:
        a, token = await add_agent("a")
        agent = AgentClient(s.session, s.gw.url, token)
        await agent.call("PUT", "/me/status", {"status": "online"}, expect=200)
        await wait_status(a, "away")  # no call for a while: the gateway sets them away
        waiting = await s.say("u1", "转人工")
        assert waiting.state == "queued"
        back = await agent.call("POST", "/me/heartbeat", expect=200)
        assert back["status"] == "online"
        assert (await Conversation.get(id=waiting.id)).agent_id == a.id  # and the queue comes to them at once

        await agent.call("PUT", "/me/status", {"status": "away"}, expect=200)
        stays = await agent.call("POST", "/me/heartbeat", expect=200)
        assert stays["status"] == "away"
        assert (await Agent.get(id=a.id)).auto_away_since is None


async def test_auto_away_agent_is_back_after_any_api_call(tmp_path):
    async with shop(tmp_path, assignment={**FAST, "away_after_seconds": 1.0}) as s:
        a, token = await add_agent("a")
        agent = AgentClient(s.session, s.gw.url, token)
        await agent.call("PUT", "/me/status", {"status": "online"}, expect=200)
        await wait_status(a, "away")
        await agent.call("GET", "/conversations?state=queued", expect=200)
        await wait_status(a, "online")


async def test_an_automatic_away_outlives_a_restart(tmp_path):
    async with shop(tmp_path, assignment={**FAST, "away_after_seconds": 0.3}) as s:
        a, token = await add_agent("a")
        await AgentClient(s.session, s.gw.url, token).call("PUT", "/me/status", {"status": "online"}, expect=200)
        await wait_status(a, "away")
    async with shop(tmp_path) as s:  # a new process: only the stored mark tells this away from a chosen one
        back = await AgentClient(s.session, s.gw.url, token).call("POST", "/me/heartbeat", expect=200)
        assert back["status"] == "online"


async def test_a_plugin_sees_an_agent_on_me_and_heartbeat_only(tmp_path):
    seen: list[tuple[str, str]] = []

    class Watcher:
        @hookimpl
        def csgw_agent_seen(self, services, agent) -> None:
            seen.append((agent.name, agent.status))

    async with running_gateway(tmp_path, disabled=["kb"], extra_plugins=[("watcher", Watcher())]) as gw, \
            aiohttp.ClientSession() as session:
        _, token = await add_agent("a", status="online")
        agent = AgentClient(session, gw.url, token)
        await agent.call("GET", "/me", expect=200)
        await agent.call("POST", "/me/heartbeat", expect=200)
        await agent.call("GET", "/conversations", expect=200)
    assert seen == [("a", "online"), ("a", "online")]


async def test_transfer_to_an_offline_away_or_full_agent_needs_force(tmp_path):
    async with shop(tmp_path) as s:
        sender, token = await add_agent("sender", status="online")
        gone, _ = await add_agent("gone", status="offline")
        resting, _ = await add_agent("resting", status="away")
        busy, _ = await add_agent("busy", status="offline", max_concurrent=1)
        conversation = await s.say("u1", "转人工")
        other = await s.say("u2", "转人工")
        assert conversation.agent_id == sender.id and other.agent_id == sender.id
        agent = AgentClient(s.session, s.gw.url, token)
        url = f"/conversations/{conversation.id}/transfer"
        refused = await agent.call("POST", url, {"agent_id": gone.id}, expect=409)
        assert refused["error"]["code"] == "agent_offline" and "force" in refused["error"]["message"]
        refused = await agent.call("POST", url, {"agent_id": resting.id}, expect=409)
        assert refused["error"]["code"] == "agent_away"
        await Agent.filter(id=busy.id).update(status="online")
        await agent.call("POST", f"/conversations/{other.id}/transfer", {"agent_id": busy.id}, expect=200)
        refused = await agent.call("POST", url, {"agent_id": busy.id}, expect=409)
        assert refused["error"]["code"] == "agent_full"
        assert (await Conversation.get(id=conversation.id)).agent_id == sender.id  # nothing moved
        await agent.call("POST", url, {"agent_id": gone.id, "force": "yes"}, expect=422)
        moved = await agent.call("POST", url, {"agent_id": gone.id, "force": True, "note": "他明天处理"}, expect=200)
        assert moved["agent_id"] == gone.id and moved["flags"]["transfer_note"] == "他明天处理"


async def test_queued_customer_hears_a_new_place_at_most_once_per_interval(tmp_path, monkeypatch):
    async with shop(tmp_path) as s:  # timers slow: the notices are driven here
        a, token = await add_agent("a", status="online", max_concurrent=1)
        first = await s.say("u1", "转人工")
        assert first.agent_id == a.id
        await s.say("u2", "转人工")
        third = await s.say("u3", "转人工")
        assert third.state == "queued" and third.flags["queue_told"]["ahead"] == 1
        await s.wait_text("u3", "您前面还有 1 位")
        await AgentClient(s.session, s.gw.url, token).call("POST", f"/conversations/{first.id}/close", expect=200)
        notices = QueuePositionNotices(s.services.conversations, s.services.settings.assignment.queue_update_seconds)
        assert await notices.tick() == 0  # moved, but told less than a minute ago
        later = now() + timedelta(seconds=61)
        monkeypatch.setattr(queue_notices, "now", lambda: later)
        assert await notices.tick() == 1
        await s.wait_text("u3", "排队更新：您前面还有 0 位")
        assert await notices.tick() == 0  # the place did not move again
        told = (await Conversation.get(id=third.id)).flags["queue_told"]
        assert told["ahead"] == 0 and told["at"] == later.isoformat()
        assert not [t for t in s.texts_to("u2") if t.startswith("排队更新")]  # u2 was served, not told


async def test_a_queue_at_rest_is_not_read_again_until_it_moves(tmp_path, monkeypatch, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        await add_agent("a", status="online", max_concurrent=0)
        waiting = [await s.say(f"u{i}", "转人工") for i in range(3)]
        assert {c.state for c in waiting} == {"queued"}
        conversations = s.services.conversations
        reads = []
        read_queue = conversations.queue_spots

        async def counted() -> dict:
            reads.append(1)
            return await read_queue()

        monkeypatch.setattr(conversations, "queue_spots", counted)
        notices = QueuePositionNotices(conversations, 60)
        at = now()

        async def scan(minutes: int) -> int:
            monkeypatch.setattr(queue_notices, "now", lambda: at + timedelta(minutes=minutes))
            return await notices.tick()

        assert await scan(0) == 0 and len(reads) == 1  # told at the hand-over: nothing new
        assert await scan(1) == 0 and len(reads) == 1  # the same queue: not read
        angry = await s.say("vip", "我要投诉")  # goes first: everyone's place moves back
        assert angry.priority > waiting[0].priority
        assert await scan(2) == 3 and len(reads) == 2
        assert await scan(3) == 0 and len(reads) == 2

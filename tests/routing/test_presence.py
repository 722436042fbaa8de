"""Offers that lapse, agents going away by inactivity, status from the CLI, offline agents' work handed back."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from datetime import timedelta
from pathlib import Path

from csgw.gateway.clock import now
from csgw.gateway.models import Agent, Conversation
from csgw.plugins.assignment import timers
from csgw.plugins.assignment.offers import expire_offers
from tests.gateway.helpers import AgentClient, add_agent, wait_for_condition
from tests.routing.conftest import shop

FAST = {"tick_seconds": 0.05}


async def status_of(agent: Agent) -> str:
    return (await Agent.get(id=agent.id)).status


async def test_offer_not_taken_in_time_goes_to_the_next_agent(tmp_path):
    async with shop(tmp_path, assignment={**FAST, "offer_timeout_seconds": 0.3, "away_after_seconds": 0}) as s:
        slow, _ = await add_agent("slow", status="online")
        quick, quick_token = await add_agent("quick", status="online")
        offered = await s.say("u1", "转人工")
        assert offered.agent_id == slow.id and offered.flags["offer"]["agent_id"] == slow.id

        async def moved() -> bool:
            return (await Conversation.get(id=offered.id)).agent_id == quick.id

        await wait_for_condition(moved, timeout=5)
        assert await status_of(slow) == "away"  # the agent who let it lapse is not at the desk
        agent = AgentClient(s.session, s.gw.url, quick_token)
        taken = await agent.call("POST", f"/conversations/{offered.id}/take", expect=200)
        assert "offer" not in taken["flags"] and taken["agent_id"] == quick.id


async def test_offer_taken_in_time_stays(tmp_path):
    async with shop(tmp_path, assignment={**FAST, "offer_timeout_seconds": 0.3, "away_after_seconds": 0}) as s:
        a, token = await add_agent("a", status="online")
        await add_agent("b", status="online")
        offered = await s.say("u1", "转人工")
        agent = AgentClient(s.session, s.gw.url, token)
        await agent.call("POST", f"/conversations/{offered.id}/messages", {"text": "您好"}, expect=201)
        lapsed = await expire_offers(s.services.conversations)
        assert lapsed == 0 and (await Conversation.get(id=offered.id)).agent_id == a.id


async def test_offers_off_assigns_directly(tmp_path):
    async with shop(tmp_path) as s:
        a, _ = await add_agent("a", status="online")
        conversation = await s.say("u1", "转人工")
        assert conversation.state == "assigned" and conversation.agent_id == a.id
        assert "offer" not in conversation.flags


async def test_agent_goes_away_without_activity_and_heartbeat_keeps_online(tmp_path):
    async with shop(tmp_path, assignment={**FAST, "away_after_seconds": 1.0}) as s:
        quiet, quiet_token = await add_agent("quiet")
        busy, busy_token = await add_agent("busy")
        q, b = AgentClient(s.session, s.gw.url, quiet_token), AgentClient(s.session, s.gw.url, busy_token)
        async with s.services.events.subscribe() as events:
            await q.call("PUT", "/me/status", {"status": "online"}, expect=200)
            await b.call("PUT", "/me/status", {"status": "online"}, expect=200)
            stop = asyncio.Event()

            async def heartbeat() -> None:
                while not stop.is_set():
                    await b.call("POST", "/me/heartbeat", expect=200)
                    with contextlib.suppress(TimeoutError):  # a desk client beats every 0.1 s until told to stop
                        await asyncio.wait_for(stop.wait(), 0.1)

            beating = asyncio.create_task(heartbeat())
            try:
                async def quiet_goes_away() -> None:
                    while True:
                        event = await events.get()
                        data = event["data"]
                        if event["type"] == "agent.updated" and data["name"] == "quiet" and data["status"] == "away":
                            return

                await asyncio.wait_for(quiet_goes_away(), timeout=5)
                assert await status_of(quiet) == "away"
                assert await status_of(busy) == "online"
            finally:
                stop.set()
                await beating


async def test_offline_agent_hands_back_open_conversations(tmp_path):
    async with shop(tmp_path) as s:
        leaving, token = await add_agent("leaving", status="online")
        conversation = await s.say("u1", "转人工")
        assert conversation.agent_id == leaving.id
        staying, _ = await add_agent("staying", status="online")
        await AgentClient(s.session, s.gw.url, token).call("PUT", "/me/status", {"status": "offline"}, expect=200)
        assert (await Conversation.get(id=conversation.id)).agent_id == staying.id


async def test_cli_status_is_noticed_by_the_running_gateway(tmp_path):
    database = tmp_path / "csgw.db"
    config = tmp_path / "cli.toml"
    config.write_text(f'[database]\nurl = "sqlite://{database}"\n', encoding="utf-8")
    async with shop(tmp_path, assignment=FAST) as s:
        await add_agent("cli", status="offline")
        waiting = await s.say("u1", "转人工")
        assert waiting.state == "queued"
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "csgw"), "agents", "status", "cli", "online", "--config", str(config),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        assert "online" in out.decode()

        async def pulled() -> bool:
            return (await Conversation.get(id=waiting.id)).state == "assigned"

        await wait_for_condition(pulled, timeout=10)
        bad = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "csgw"), "agents", "status", "cli", "asleep", "--config", str(config),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await bad.communicate()
        assert bad.returncode == 2 and "status is one of" in err.decode()


async def test_idle_conversation_closes_on_the_timer_and_the_next_message_starts_with_the_bot(tmp_path, monkeypatch):
    async with shop(tmp_path, assignment={**FAST, "idle_close_seconds": 600}) as s:
        a, token = await add_agent("a", status="online")
        conversation = await s.say("u1", "转人工")
        assert conversation.agent_id == a.id
        await AgentClient(s.session, s.gw.url, token).call(
            "POST", f"/conversations/{conversation.id}/messages", {"text": "您好"}, expect=201)
        later = now() + timedelta(seconds=601)
        monkeypatch.setattr(timers, "now", lambda: later)  # the running timer's clock, past the limit
        await s.wait_text("u1", "本次会话已结束", timeout=5)
        closed = await Conversation.get(id=conversation.id)
        assert closed.state == "closed" and closed.closed_at is not None
        fresh = await s.say("u1", "问一下营业时间")
        assert fresh.id != conversation.id and fresh.state == "bot"
        await s.wait_text("u1", "机器人的回答")

"""Three instances behave as one: a visitor connected to one gets what agents send through
another, agents hear every instance's events, a visitor's allowance of messages is one for all
instances, and a killed instance's visitors resume elsewhere. (Each test starts three servers:
what one cluster can show is checked in one test.)"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from csgw.gateway.models import Message
from tests.cluster.conftest import VISITOR_MESSAGES_PER_MINUTE
from tests.gateway.helpers import AgentClient, Visitor, add_agent, wait_delivered


async def test_three_instances_serve_as_one(cluster):
    a, b, c = cluster
    _, token = await add_agent("alice", status="online")
    async with aiohttp.ClientSession() as session, \
            session.ws_connect(c.url + "/api/v1/events", params={"token": token}) as events_on_c:
        visitor = await Visitor(session, a.url, "visitor-0001").connect()
        ack = await visitor.say("c1", "转人工")
        joined = await visitor.receive_until(lambda f: f["type"] == "agent_joined")
        assert joined["name"] == "Alice"

        async def hears_the_visitor() -> dict:
            while True:
                event = await events_on_c.receive_json()
                if event["type"] == "message.created" and event["data"].get("id") == ack["id"]:
                    return event

        await asyncio.wait_for(hears_the_visitor(), 15)  # stored on A, heard on C

        agent = AgentClient(session, b.url, token)
        replies = [await agent.call("POST", f"/conversations/{ack['conversation_id']}/messages",
                                    {"text": f"第{i}条"}, expect=201) for i in range(6)]
        seen = [await visitor.receive_until(lambda f: f["type"] == "message" and f["from"] == "agent", timeout=15)
                for _ in replies]
        assert [f["id"] for f in seen] == [r["id"] for r in replies]
        await wait_delivered([r["id"] for r in replies], timeout=15)
        await visitor.close()

        # One visitor with a tab on each instance, four messages through each: counted per
        # instance, all twelve would pass; counted for the cluster, the allowance and what
        # refilled meanwhile (one message per 15 s).
        started = time.monotonic()
        tabs = [await Visitor(session, server.url, "visitor-0003").connect() for server in (a, b, c)]
        answers = []
        for n in range(12):
            tab = tabs[n % 3]
            await tab.ws.send_json({"type": "message", "client_id": f"r{n}", "text": f"第{n}问"})
            answers.append(await tab.receive_until(
                lambda f, n=n: f.get("client_id") == f"r{n}" or f.get("code") == "rate_limited"))
        refilled = int((time.monotonic() - started) * VISITOR_MESSAGES_PER_MINUTE / 60)
        accepted = [frame for frame in answers if frame["type"] == "ack"]
        assert VISITOR_MESSAGES_PER_MINUTE <= len(accepted) <= VISITOR_MESSAGES_PER_MINUTE + refilled
        assert all(frame["code"] == "rate_limited" for frame in answers if frame["type"] != "ack")
        for tab in tabs:
            await tab.close()

    await a_killed_instances_visitor_resumes_on_another_with_nothing_lost(cluster, token)  # kills A: last


async def a_killed_instances_visitor_resumes_on_another_with_nothing_lost(cluster, token: str) -> None:
    a, b, c = cluster
    async with aiohttp.ClientSession() as session:
        visitor = await Visitor(session, a.url, "visitor-0002").connect()
        ack = await visitor.say("c1", "人工客服")
        conversation_id = ack["conversation_id"]
        last_seen = (await visitor.receive_until(lambda f: f["type"] == "message"))["id"]
        a.kill()

        agent = AgentClient(session, c.url, token)
        while_away = [await agent.call("POST", f"/conversations/{conversation_id}/messages", {"text": f"第{i}条"},
                                       expect=201) for i in range(3)]
        await wait_delivered([m["id"] for m in while_away], timeout=15)

        back = await Visitor(session, b.url, "visitor-0002").connect()  # the balancer's next choice
        assert back.hello["conversation_id"] == conversation_id
        await back.ws.send_json({"type": "resume", "after": last_seen})
        replayed = []
        while len(replayed) < len(while_away):
            frame = await back.receive(timeout=15)
            if frame["type"] == "message" and frame["from"] == "agent":
                replayed.append(frame)
        assert [f["id"] for f in replayed] == [m["id"] for m in while_away]

        after = await agent.call("POST", f"/conversations/{conversation_id}/messages", {"text": "还在吗"}, expect=201)
        live = await back.receive_until(lambda f: f["type"] == "message" and f["id"] == after["id"], timeout=15)
        assert live["text"] == "还在吗"
        stored = await Message.filter(conversation_id=conversation_id, direction="out", sender="agent").count()
        assert stored == 4
        await back.close()

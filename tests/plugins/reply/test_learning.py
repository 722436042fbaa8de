"""Learning from the desk through the real gateway: gaps, proposals from agents' answers, review."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from csgw.config.loader import load_settings
from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Conversation, Message
from csgw.gateway.storage.db import close_database, open_database
from csgw.gateway.storage.store import DraftReply
from csgw.plugins.reply import kb_store, learning
from csgw.plugins.reply.kb import load_kb
from csgw.plugins.reply.models import APP, KnowledgeEntry, KnowledgeProposal
from csgw.testing import running_gateway
from tests.cli.server_process import DEMO_KB, write_config
from tests.gateway.helpers import AgentClient, add_agent, wait_for_condition
from tests.plugins.reply.test_kb_in_gateway import csgw

FAKE = [{"plugin": "fake", "account": "shop"}]
UNKNOWN = "火星基地收得到吗"  # nothing in the demo KB; the overseas entry is the closest a person would pick


async def ask(gw, user: str, text: str) -> Message:
    accepted = await gw.services.accept(InboundMessage("fake", "shop", user, text, f"{user}-{text}"))
    channel = gw.fake("shop")
    await channel.wait_sent(len(channel.sent) + 1)
    return await Message.get(id=accepted.message_id)


async def bot_answer(gw, user: str, text: str) -> str | None:
    """The entry the bot answered `text` with, or None."""
    message = await ask(gw, user, text)
    reply = await Message.filter(reply_to_id=message.id, sender="bot").first()
    payload = reply.payload or {}
    return payload.get("entry_id") if payload.get("source") in ("keyword", "retrieval", "menu") else None


async def test_gaps_proposals_and_review(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw, \
            aiohttp.ClientSession() as session:
        _, token = await add_agent("desk")
        agent = AgentClient(session, gw.url, token)
        question = await ask(gw, "u1", UNKNOWN)
        await ask(gw, "u2", UNKNOWN)
        await ask(gw, "u3", "火星基地收得到么")  # a near-identical wording joins the cluster
        await ask(gw, "u4", "你们支持比特币付款吗")

        gaps = (await agent.call("GET", "/kb/gaps", expect=200))["items"]
        assert gaps[0]["text"] == UNKNOWN and gaps[0]["count"] == 3
        assert "火星基地收得到么" in gaps[0]["examples"]
        assert [gap["count"] for gap in gaps[1:]] == [1] and gaps[1]["text"] == "你们支持比特币付款吗"

        made = await agent.call("POST", "/kb/overseas/learn", {"conversation_id": question.conversation_id},
                                expect=201)
        proposal = made["proposal"]
        assert proposal["question"] == UNKNOWN and proposal["entry_id"] == "overseas"
        assert proposal["message_id"] == question.id and proposal["state"] == "pending"
        pending = (await agent.call("GET", "/kb/proposals", expect=200))["items"]
        assert [p["id"] for p in pending] == [proposal["id"]]
        assert await bot_answer(gw, "u5", UNKNOWN) is None  # not applied before review

        accepted = await agent.call("POST", f"/kb/proposals/{proposal['id']}/accept", expect=200)
        assert accepted["state"] == "accepted"
        assert await bot_answer(gw, "u6", UNKNOWN) == "overseas"  # picked up at once
        assert UNKNOWN in (await KnowledgeEntry.get(key="overseas")).similar
        await agent.call("POST", f"/kb/proposals/{proposal['id']}/reject", expect=409)
        gaps = (await agent.call("GET", "/kb/gaps", expect=200))["items"]
        assert [gap["text"] for gap in gaps] == ["你们支持比特币付款吗"]  # answered now: no longer a gap

        bitcoin = await Message.get(text="你们支持比特币付款吗")
        rejected = await agent.call("POST", "/kb/payment-methods/learn", {"message_id": bitcoin.id}, expect=201)
        await agent.call("POST", f"/kb/proposals/{rejected['proposal']['id']}/reject", expect=200)
        assert (await agent.call("GET", "/kb/proposals", expect=200))["items"] == []
        assert await bot_answer(gw, "u7", "你们支持比特币付款吗") is None
        await agent.call("POST", "/kb/nope/learn", {"message_id": bitcoin.id}, expect=404)
        await agent.call("POST", "/kb/overseas/learn", {}, expect=422)
        async with session.get(gw.url + "/api/v1/openapi.json") as response:
            paths = set((await response.json())["paths"])
        assert {"/api/v1/kb/gaps", "/api/v1/kb/proposals", "/api/v1/kb/proposals/{id}/accept",
                "/api/v1/kb/proposals/{id}/reject", "/api/v1/kb/{key}/learn"} <= paths


async def test_an_agent_reply_naming_its_entry_proposes_the_question(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        agent, _ = await add_agent("desk")
        question = await ask(gw, "u1", UNKNOWN)
        await ask(gw, "u1", "转人工")  # the hand-over request itself is not the question
        conversation = await Conversation.get(id=question.conversation_id)
        await gw.services.store.store_replies(conversation, [DraftReply(
            "可以的，国际快递能寄，运费另算", "agent", {"kb_entry_id": "overseas"}, agent_id=agent.id)])
        gw.services.outbox.wake()

        async def proposed() -> bool:
            return await KnowledgeProposal.filter(entry_key="overseas").exists()

        await wait_for_condition(proposed)
        proposal = await KnowledgeProposal.get(entry_key="overseas")
        assert (proposal.question, proposal.message_id, proposal.agent_id) == (UNKNOWN, question.id, agent.id)


def test_cli_gaps_and_review(tmp_path):
    config = write_config(tmp_path)

    async def seed() -> int:
        from csgw.gateway.clock import now

        await open_database(load_settings(config).database.url, APP)
        try:
            await kb_store.import_knowledge_base(load_kb(DEMO_KB))
            for number, text in enumerate([UNKNOWN, UNKNOWN, "你们老板是哪里人"], start=1):
                question = await Message.create(conversation_id=number, channel="webchat", account="default",
                                                direction="in", sender="customer", text=text, created_at=now())
                await Message.create(conversation_id=number, channel="webchat", account="default", direction="out",
                                     sender="bot", text="…", payload={"source": "none"}, reply_to_id=question.id,
                                     created_at=now())
            proposal = await learning.propose("overseas", question)
            return proposal.id
        finally:
            await close_database()

    nothing_yet = csgw("kb", "gaps", "--json", "--config", str(config))
    assert nothing_yet.returncode == 0 and json.loads(nothing_yet.stdout) == [], nothing_yet.stderr
    proposal_id = asyncio.run(seed())
    gaps = csgw("kb", "gaps", "--json", "--config", str(config))
    assert gaps.returncode == 0, gaps.stderr
    assert [(g["text"], g["count"]) for g in json.loads(gaps.stdout)] == [
        (UNKNOWN, 2), ("你们老板是哪里人", 1)]
    listed = csgw("kb", "review", "--config", str(config))
    assert listed.returncode == 0 and f"{proposal_id}  你们老板是哪里人  ->  overseas" in listed.stdout
    accepted = csgw("kb", "review", "--accept", str(proposal_id), "--config", str(config))
    assert accepted.returncode == 0 and "accepted" in accepted.stdout, accepted.stderr
    again = csgw("kb", "review", "--reject", str(proposal_id), "--config", str(config))
    assert again.returncode == 2 and "already accepted" in again.stderr
    tested = json.loads(csgw("kb", "test", "你们老板是哪里人", "--json", "--config", str(config)).stdout)
    assert tested["answered"] and tested["entry_id"] == "overseas"

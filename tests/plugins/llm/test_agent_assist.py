"""Agent assist over the agent API (SQLite and PostgreSQL): a reply draft grounded in the knowledge
base that is never sent by itself, a summary on request and as a note at hand-over and transfer,
the refusals (no model, another agent's conversation, a bad language, a failing model)."""

from __future__ import annotations

import aiohttp

from csgw.gateway.messages import InboundMessage
from csgw.gateway.models import Conversation, Message
from csgw.testing import running_gateway
from tests.fakes.openai_server import FakeModel, fail, say
from tests.gateway.helpers import AgentClient, add_agent, wait_delivered, wait_for_condition

KEY = "sk-assist-0123456789"
AUTHENTIC = "本店所有商品均为品牌官方正品，支持专柜验货，假一赔十。"


async def notes(conversation_id: int) -> list[Message]:
    return await Message.filter(conversation_id=conversation_id, direction="note").order_by("id")


async def test_drafts_and_summaries_for_agents(tmp_path, database_url):
    async with FakeModel(api_key=KEY) as model, running_gateway(
            tmp_path, database_url=database_url, channels=[{"plugin": "fake", "account": "a"}],
            llm={"base_url": model.base_url, "model": "fake-model", "api_key": KEY},
            assignment={"tick_seconds": 60}) as gw, aiohttp.ClientSession() as session:
        _, boss_token = await add_agent("sue", status="online")
        _, amy_token = await add_agent("amy", role="agent", status="online", skills=["other"])
        boss, amy = AgentClient(session, gw.url, boss_token), AgentClient(session, gw.url, amy_token)
        assert await boss.call("GET", "/assist", expect=200) == {"enabled": True, "model": "fake-model",
                                                                 "summaries": True}
        for number, text in enumerate(("你好，在吗", "我手机13812345678，专柜验货吗", "转人工")):
            accepted = await gw.services.accept(InboundMessage("fake", "a", "u1", text, f"m{number}"))
            await gw.services.pipeline.drain()
        cid = accepted.conversation_id
        conversation = await Conversation.get(id=cid)
        assert conversation.state == "assigned"  # handed over to sue: a summary note follows

        await wait_for_condition(lambda: _has_notes(cid, 1))
        (note,) = await notes(cid)
        assert note.sender == "bot" and note.text.startswith("AI 摘要：顾客问了3个问题")
        assert note.payload == {"source": "llm", "summary": "handed_over"}
        summary_prompt = model.user_texts()[-1]
        assert "[PHONE]" in summary_prompt and "13812345678" not in summary_prompt

        # what the bot and the hand-over said has gone out: nothing else is on its way
        said = await Message.filter(conversation_id=cid, direction="out").values_list("id", flat=True)
        await wait_delivered(list(said))
        sent_before = len(gw.fake("a").sent)
        model.script(say(f"{AUTHENTIC}有问题随时找我～ [kb:authentic] [kb:not-given]"))
        draft = await boss.call("POST", f"/conversations/{cid}/draft", expect=200)
        assert draft == {"draft": f"{AUTHENTIC}有问题随时找我～", "entries": ["authentic"], "model": "fake-model"}
        assert "[kb:authentic]" in model.user_texts()[-1]  # grounded in the KB entry nearest the question
        assert len(gw.fake("a").sent) == sent_before  # a draft is never sent
        assert not await Message.filter(conversation_id=cid, sender="agent").exists()

        summary = await boss.call("POST", f"/conversations/{cid}/summary", {"language": "en"}, expect=200)
        assert summary["summary"].startswith("顾客问了") and "English" in model.requests[-1]["messages"][0]["content"]

        refused = await amy.call("POST", f"/conversations/{cid}/draft", expect=403)  # sue's conversation
        assert refused["error"]["code"] == "forbidden"
        bad = await boss.call("POST", f"/conversations/{cid}/summary", {"language": "fr"}, expect=422)
        assert bad["error"]["code"] == "bad_language"
        await boss.call("POST", f"/conversations/{cid}/transfer", {"group": "other"}, expect=200)
        await wait_for_condition(lambda: _has_notes(cid, 2))  # a summary for whoever takes it next
        assert (await notes(cid))[-1].payload["summary"] == "transferred"

        model.script(fail(429, f"slow down, {KEY}", retry_after=20))
        failed = await boss.call("POST", f"/conversations/{cid}/draft", expect=503)
        assert failed["error"]["code"] == "llm_rate_limited" and "try again in 20 s" in failed["error"]["message"]
        assert KEY not in failed["error"]["message"]
        asked = len(model.requests)
        paused = await boss.call("POST", f"/conversations/{cid}/summary", expect=503)  # not asked while paused
        assert paused["error"]["code"] == "llm_paused" and len(model.requests) == asked


async def _has_notes(conversation_id: int, count: int) -> bool:
    return len(await notes(conversation_id)) >= count


async def test_without_a_model_the_assist_routes_say_so(tmp_path):
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}]) as gw, \
            aiohttp.ClientSession() as session:
        _, token = await add_agent("sue")
        boss = AgentClient(session, gw.url, token)
        accepted = await gw.services.accept(InboundMessage("fake", "a", "u1", "你好", "m1"))
        assert await boss.call("GET", "/assist", expect=200) == {"enabled": False}
        off = await boss.call("POST", f"/conversations/{accepted.conversation_id}/draft", expect=404)
        assert off["error"]["code"] == "llm_off" and "[llm]" in off["error"]["message"]
        await boss.call("POST", "/conversations/999999/summary", expect=404)

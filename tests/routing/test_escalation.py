"""Escalation: complaint, urgent and payment lanes; waiting limits raise priority, notify, move to a supervisor."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestServer

from csgw.gateway.models import Conversation
from tests.gateway.helpers import AgentClient, add_agent, wait_for_condition
from tests.routing.conftest import shop


async def test_complaint_wording_in_both_scripts_jumps_the_bot_and_the_queue(tmp_path):
    rules = [{"name": "complaint", "priority": 10, "handover": True, "group": "主管",
              "keywords": ["投诉", "差评", "举报", "气死", "投訴", "差評", "舉報", "氣死"]},
             {"name": "urgent", "priority": 5, "handover": True, "keywords": ["加急", "急用", "马上要"]}]
    async with shop(tmp_path, escalation={"rules": rules}) as s:
        await add_agent("boss", ["主管"])  # offline: the group exists, so complaints wait in it
        for user, text in (("a", "问一下，我要投诉你们"), ("b", "問一下，我要給差評"), ("c", "問一下，氣死我了"),
                           ("d", "问一下要举报")):
            conversation = await s.say(user, text)
            assert conversation.state == "queued" and conversation.priority == 10, text
            assert conversation.flags["complaint"] is True and conversation.group == "主管"
            assert "机器人的回答" not in s.texts_to(user)
        urgent = await s.say("e", "这单加急，明天急用")
        assert urgent.priority == 5 and urgent.flags["urgent"] is True
        calm = await s.say("f", "问一下营业时间")
        assert calm.state == "bot" and calm.priority == 0


async def test_default_rules_cover_payment_trouble(tmp_path):
    async with shop(tmp_path) as s:
        conversation = await s.say("u", "付款失败了还扣款了")
        assert conversation.flags["payment"] is True and conversation.priority == 7


async def test_waiting_limit_breach_escalates_notifies_and_moves_to_supervisors(tmp_path):
    calls: list[dict] = []

    async def hook(request: web.Request) -> web.Response:
        calls.append(await request.json())
        return web.json_response({})

    receiver = web.Application()
    receiver.router.add_post("/breach", hook)
    server = TestServer(receiver, host="127.0.0.1")
    await server.start_server()
    try:
        escalation = {"tick_seconds": 0.05, "first_response_seconds": {0: 0.3, 10: 60},
                      "breach_priority_step": 10, "supervisor_group": "主管",
                      "webhook_url": str(server.make_url("/breach"))}
        async with shop(tmp_path, escalation=escalation) as s:
            await add_agent("shoes", ["鞋"], max_concurrent=1, status="online")
            await s.say("first", "买鞋")  # takes the only 鞋 agent
            async with s.services.events.subscribe() as events:
                waiting = await s.say("second", "看看鞋")
                assert waiting.state == "queued" and waiting.priority == 0

                async def escalated() -> bool:
                    return (await Conversation.get(id=waiting.id)).flags.get("sla_missed") is True

                await wait_for_condition(escalated, timeout=5)
                now = await Conversation.get(id=waiting.id)
                assert (now.priority, now.group) == (10, "主管")
                assert now.flags["sla"]["kind"] == "first_response" and now.flags["sla"]["breaches"] == 1
                seen = []
                while not events.empty():
                    seen.append(events.get_nowait())
                assert any(e["data"].get("change") == "escalated" and e["data"]["id"] == waiting.id for e in seen)
            await wait_for_condition(lambda: _called_for(calls, waiting.id), timeout=5)
            assert {c["kind"] for c in calls} == {"first_response"}  # the assigned one, never answered, too
            boss, token = await add_agent("boss", ["主管"])
            await AgentClient(s.session, s.gw.url, token).call("PUT", "/me/status", {"status": "online"}, expect=200)
            assert (await Conversation.get(id=waiting.id)).agent_id == boss.id
    finally:
        await server.close()


async def _called_for(calls: list[dict], conversation_id: int) -> bool:
    return any(c["conversation"]["id"] == conversation_id for c in calls)


async def test_waiting_conversations_are_read_only_when_a_limit_may_be_reached(tmp_path, monkeypatch, database_url):
    """Between reads no wait can reach its limit: none of those read before its time, none begun
    since before the shortest limit; a priority raised (a shorter limit, by an escalation here or by
    anything else) makes the next tick read."""
    from datetime import timedelta

    from csgw.gateway.clock import now
    from csgw.plugins.escalation import limits as limits_module
    from csgw.plugins.escalation.limits import WaitingLimits

    escalation = {"tick_seconds": 300, "first_response_seconds": {0: 600, 7: 100}, "next_response_seconds": {0: 900}}
    async with shop(tmp_path, database_url=database_url, escalation=escalation) as s:
        waiting = [await s.say(f"u{i}", "转人工") for i in range(3)]  # nobody online: all queued
        assert {c.state for c in waiting} == {"queued"}
        reads = []
        read_latest = limits_module.latest_exchanges

        async def counted(ids):
            reads.append(len(ids))
            return await read_latest(ids)

        monkeypatch.setattr(limits_module, "latest_exchanges", counted)
        limits = WaitingLimits(s.services.conversations, s.services.settings.escalation, None)
        start = now()

        async def tick(seconds: float) -> int:
            monkeypatch.setattr(limits_module, "now", lambda: start + timedelta(seconds=seconds))
            await limits.tick()
            return len(reads)

        assert [await tick(t) for t in (0, 5, 50, 95)] == [1, 1, 1, 1]
        assert [await tick(t) for t in (100, 150)] == [2, 2]  # a wait begun at 1 s could end at 101 s
        await Conversation.filter(id=waiting[0].id).update(priority=7)  # a 100 s limit, passed already
        assert await tick(155) == 3
        raised = await Conversation.get(id=waiting[0].id)
        assert raised.priority > 7 and raised.flags["sla"]["breaches"] == 1
        assert [await tick(t) for t in (160, 165)] == [4, 4]  # the escalation moved the sums: once more
        others = [c.id for c in waiting[1:]]

        async def missed() -> list[bool]:
            return [bool(c.flags.get("sla_missed")) for c in await Conversation.filter(id__in=others).order_by("id")]

        assert await missed() == [False, False]
        await tick(700)
        assert await missed() == [True, True]

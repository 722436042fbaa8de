"""The inactivity close (`[assignment] idle_close_seconds`) closes only conversations that wait on
the customer, and asks for a rating only when someone served them. The timer runs by hand on a
clock moved past the limit: nothing here waits for real time to pass."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest

from csgw.gateway.channel import InboundMessage
from csgw.gateway.clock import now
from csgw.gateway.models import Conversation, Message
from csgw.plugins.assignment import timers
from csgw.plugins.assignment.timers import AssignmentTimer
from csgw.testing import RunningGateway, running_gateway
from tests.gateway.helpers import AgentClient, add_agent
from tests.routing.conftest import SLOW_TIMERS

IDLE = 600
RATE = "请回复数字 1-5 为本次服务打分"
ENDED = "本次会话已结束，感谢您的咨询！"


class Desk:
    def __init__(self, gw: RunningGateway) -> None:
        self.gw, self.count = gw, 0

    async def say(self, user: str, text: str) -> Conversation:
        self.count += 1
        accepted = await self.gw.services.accept(InboundMessage("fake", "shop", user, text, f"m-{self.count}"))
        await self.gw.services.pipeline.drain()
        return await Conversation.get(id=accepted.conversation_id)

    async def idle_close(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """One run of the timer's idle close, `IDLE` seconds and a bit from now."""
        later = now() + timedelta(seconds=IDLE + 1)
        monkeypatch.setattr(timers, "now", lambda: later)
        timer = AssignmentTimer(self.gw.services.conversations, self.gw.services.settings.assignment)
        await timer.close_idle_conversations()


async def told(conversation: Conversation) -> list[str]:
    return [m.text for m in await Message.filter(conversation_id=conversation.id, sender="system").order_by("id")]


async def state(conversation: Conversation) -> str:
    return (await Conversation.get(id=conversation.id)).state


async def test_only_conversations_waiting_on_the_customer_close_and_only_served_ones_are_asked_to_rate(
        tmp_path, database_url, monkeypatch):
    async with running_gateway(tmp_path, database_url=database_url, channels=[{"plugin": "fake", "account": "shop"}],
                               assignment={**SLOW_TIMERS, "idle_close_seconds": IDLE}) as gw, \
            aiohttp.ClientSession() as session:
        desk = Desk(gw)
        queued = await desk.say("queued", "转人工")  # nobody online yet: waits in the queue
        assert queued.state == "queued"
        agent, token = await add_agent("alice", status="online", max_concurrent=10)
        alice = AgentClient(session, gw.url, token)

        unanswered = await desk.say("unanswered", "转人工")  # assigned, the agent never wrote
        answered = await desk.say("answered", "转人工")
        await alice.call("POST", f"/conversations/{answered.id}/messages", {"text": "您好，已为您查好"}, expect=201)
        asked_again = await desk.say("asked-again", "转人工")
        await alice.call("POST", f"/conversations/{asked_again.id}/messages", {"text": "您好"}, expect=201)
        await desk.say("asked-again", "还有一个问题")  # the customer wrote last: waits on the agent
        bot_answered = await desk.say("bot-answered", "包邮吗")
        menu_only = await desk.say("menu-only", "今天天气怎么样")  # the bot only offered its menu
        assert (unanswered.agent_id, answered.agent_id, bot_answered.state, menu_only.state) == (
            agent.id, agent.id, "bot", "bot")
        assert (await Message.filter(conversation_id=bot_answered.id, sender="bot").first()).payload["entry_id"]

        await desk.idle_close(monkeypatch)

        for waiting in (queued, unanswered, asked_again):
            assert await state(waiting) != "closed", waiting.id
            assert not any(ENDED in text for text in await told(waiting))
        for served in (answered, bot_answered):
            assert await state(served) == "closed"
            assert any(RATE in text for text in await told(served)), served.id
        assert await state(menu_only) == "closed"
        assert await told(menu_only) == [ENDED]

        # Not asked, so a lone digit (the old menu's choice) is a new question, not a rating.
        again = await desk.say("menu-only", "2")
        assert again.id != menu_only.id and again.state == "bot"
        assert (await Conversation.get(id=menu_only.id)).satisfaction is None
        rated = await desk.say("answered", "5")
        assert rated.id == answered.id and rated.satisfaction == 5


async def test_idle_close_is_off_by_default(tmp_path, monkeypatch):
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "shop"}],
                               assignment=SLOW_TIMERS) as gw:
        desk = Desk(gw)
        answered = await desk.say("u1", "包邮吗")
        await desk.idle_close(monkeypatch)
        assert await state(answered) == "bot"

"""An agent taking a conversation: refused when it would put them over capacity, and decided under
the queue lock without holding it while the change is announced (a hook may take it)."""

from __future__ import annotations

import asyncio
from typing import Any

from csgw.gateway.channel import InboundMessage
from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.models import Conversation
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent
from tests.routing.conftest import SHOP, SLOW_TIMERS, ScriptedRepliesPlugin, shop

BOUND = 10  # seconds: a deadlock fails the test instead of hanging it


class QueueServingHook:
    """A plugin serving the queue whenever a conversation is taken or transferred."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    @hookimpl
    async def csgw_conversation_changed(self, services: Any, conversation: dict[str, Any], change: str) -> None:
        if change in ("taken", "transferred"):
            await services.conversations.dispatch_queue()  # takes the queue lock itself
            self.heard.append(change)


async def test_a_hook_may_serve_the_queue_while_a_take_or_transfer_is_announced(tmp_path, database_url):
    hook = QueueServingHook()
    async with running_gateway(tmp_path, database_url=database_url, channels=SHOP, disabled=["kb"],
                               extra_plugins=[("scripted_replies", ScriptedRepliesPlugin()), ("hook", hook)],
                               assignment=SLOW_TIMERS) as gw:
        agent, _ = await add_agent("a")  # offline: the hand-over queues
        accepted = await gw.services.accept(InboundMessage("fake", "shop", "u1", "转人工", "m1"))
        await gw.services.pipeline.drain()
        conversation = await Conversation.get(id=accepted.conversation_id)
        assert conversation.state == "queued"
        conversations = gw.services.conversations
        await asyncio.wait_for(conversations.take(conversation, agent), BOUND)
        await asyncio.wait_for(conversations.transfer(conversation, agent_id=None, group="鞋"), BOUND)
        assert hook.heard == ["taken", "transferred"]
        assert (await Conversation.get(id=conversation.id)).state == "queued"


async def test_a_full_agent_is_refused_a_take_and_a_reply_that_would_take(tmp_path):
    async with shop(tmp_path) as s:
        _, token = await add_agent("a", max_concurrent=1)  # offline: the hand-overs queue
        first, second = await s.say("u1", "转人工"), await s.say("u2", "转人工")
        agent = AgentClient(s.session, s.gw.url, token)
        await agent.call("POST", f"/conversations/{first.id}/take", expect=200)
        refused = await agent.call("POST", f"/conversations/{second.id}/take", expect=409)
        assert refused["error"]["code"] == "agent_full" and "1 of 1" in refused["error"]["message"]
        refused = await agent.call("POST", f"/conversations/{second.id}/messages", {"text": "您好"}, expect=409)
        assert refused["error"]["code"] == "agent_full"
        await agent.call("POST", f"/conversations/{first.id}/take", expect=200)  # their own: no room needed
        assert (await Conversation.get(id=second.id)).state == "queued"

"""A reply's `priority` raises the conversation's (a hand-over's place in the queue) and its
`note` is left for the agents as an internal note by the bot, announced, never sent."""

from __future__ import annotations

import aiohttp

from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.messages import InboundMessage
from csgw.gateway.models import Conversation, Message
from csgw.gateway.reply import Reply, ReplyContext
from csgw.testing import running_gateway
from tests.gateway.helpers import add_agent, next_event


class Noting:
    name = "noting"
    priority = 2000

    async def reply(self, context: ReplyContext) -> Reply | None:
        if context.text == "hand over":
            return Reply("passing you on", handover=True, priority=9, note="for the agents: order A1 failed",
                         source=self.name, payload={"order": {"order_id": "A1"}})
        return Reply("noted", priority=3, note="a quiet remark", source=self.name)


class NotingPlugin:
    @hookimpl
    def csgw_reply_handlers(self, settings):
        return [Noting()]


async def test_priority_and_note_of_a_reply(tmp_path):
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}],
                               extra_plugins=[("noting", NotingPlugin())], assignment={"tick_seconds": 60},
                               escalation={"tick_seconds": 300}) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("anna", status="online")
        async with session.ws_connect(f"{gw.url}/api/v1/events", params={"token": token}) as events:
            first = await gw.services.accept(InboundMessage("fake", "a", "u1", "hello", "m1"))
            await gw.services.pipeline.drain()
            assert (await Conversation.get(id=first.conversation_id)).priority == 3  # raised, no hand-over
            await gw.services.accept(InboundMessage("fake", "a", "u1", "hand over", "m2"))
            announced = await next_event(events, "note.created")
            while announced["text"] != "for the agents: order A1 failed":
                announced = await next_event(events, "note.created")
        await gw.services.pipeline.drain()
        conversation = await Conversation.get(id=first.conversation_id)
        assert (conversation.state, conversation.priority) == ("assigned", 9)
        notes = await Message.filter(conversation_id=conversation.id, direction="note").order_by("id")
        assert [(n.sender, n.agent_id, n.text) for n in notes] == [
            ("bot", None, "a quiet remark"), ("bot", None, "for the agents: order A1 failed")]
        assert notes[1].payload == {"source": "noting", "order": {"order_id": "A1"}}
        assert announced["sender"] == "bot" and announced["direction"] == "note"
        sent = await gw.fake("a").wait_sent(3)
        assert "for the agents" not in " ".join(m.text for m in sent) and "a quiet remark" not in " ".join(
            m.text for m in sent)

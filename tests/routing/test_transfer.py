"""Transfers between agents and groups carry a note, keep the history, and free the sender's capacity."""

from __future__ import annotations

from csgw.gateway.models import Conversation
from tests.gateway.helpers import AgentClient, add_agent
from tests.routing.conftest import shop


async def test_transfer_to_agent_then_group_with_notes_and_history(tmp_path):
    async with shop(tmp_path) as s:
        shoes, shoes_token = await add_agent("shoes", ["鞋"], status="online")
        lawyer, lawyer_token = await add_agent("lawyer", ["法律"], status="online")
        helper, _ = await add_agent("helper", ["鞋"], status="online")
        conversation = await s.say("u1", "鞋子开胶了")
        assert conversation.agent_id == shoes.id
        a = AgentClient(s.session, s.gw.url, shoes_token)
        await a.call("POST", f"/conversations/{conversation.id}/messages", {"text": "您好，我看一下"}, expect=201)
        moved = await a.call("POST", f"/conversations/{conversation.id}/transfer",
                             {"agent_id": helper.id, "note": "客户要求退货"}, expect=200)
        assert moved["agent_id"] == helper.id and moved["flags"]["transfer_note"] == "客户要求退货"
        moved = await a.call("POST", f"/conversations/{conversation.id}/transfer",
                             {"group": "法律", "note": "涉及维权"}, expect=200)
        now = await Conversation.get(id=conversation.id)
        assert (now.group, now.agent_id, now.state) == ("法律", lawyer.id, "assigned")
        assert [t["note"] for t in now.flags["transfers"]] == ["客户要求退货", "涉及维权"]
        assert now.flags["transfers"][1]["from_agent_id"] == helper.id
        history = await AgentClient(s.session, s.gw.url, lawyer_token).call(
            "GET", f"/conversations/{conversation.id}/messages", expect=200)
        assert [m["text"] for m in history["items"] if m["sender"] in ("customer", "agent")] == [
            "鞋子开胶了", "您好，我看一下"]
        await a.call("POST", f"/conversations/{conversation.id}/transfer", {}, expect=422)

"""Internal notes through the real server: listed and exported with the messages, announced to
agents, and never on any way to the customer (outbox, widget history, waiting limits)."""

from __future__ import annotations

import json

import aiohttp

from csgw.cli.history_io import ExportFilter, export_records
from csgw.gateway.channel import InboundMessage
from csgw.gateway.clock import now
from csgw.gateway.models import Conversation, Message, OutboxItem
from csgw.plugins.escalation.limits import WaitingLimits
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, Visitor, add_agent, next_event, wait_for_condition

FAKE = [{"plugin": "fake", "account": "shop"}]
WEBCHAT = [{"plugin": "webchat", "account": "default"}, *FAKE]


async def test_a_note_is_listed_announced_exported_and_never_sent(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw, \
            aiohttp.ClientSession() as session:
        alice, alice_token = await add_agent("alice", role="agent")
        _, bob_token = await add_agent("bob", role="agent")
        alice_api = AgentClient(session, gw.url, alice_token)
        accepted = await gw.services.accept(InboundMessage("fake", "shop", "u1", "下单后多久发货", "m1"))
        cid = accepted.conversation_id
        await gw.fake("shop").wait_sent(1)  # the bot's answer
        before = await Conversation.get(id=cid)

        async with session.ws_connect(f"{gw.url}/api/v1/events",
                                      headers={"Authorization": f"Bearer {bob_token}"}) as bob_events:
            note = await alice_api.call("POST", f"/conversations/{cid}/notes",
                                        {"text": "  老客户，上次漏发过一次，优先处理  "}, expect=201)
            seen = await next_event(bob_events, "note.created")
        assert note["direction"] == "note" and note["sender"] == "agent" and note["agent_id"] == alice.id
        assert note["text"] == "老客户，上次漏发过一次，优先处理" and note["delivery"] is None
        assert note["payload"]["agent_name"] == "Alice"
        assert seen == note

        await alice_api.call("POST", f"/conversations/{cid}/messages", {"text": "马上为您查询"}, expect=201)
        sent = await gw.fake("shop").wait_sent(2)
        assert [m.text for m in sent][1] == "马上为您查询"
        assert all(m.message_id != note["id"] for m in gw.fake("shop").attempts)
        assert not await OutboxItem.filter(message_id=note["id"]).exists()

        listed = (await alice_api.call("GET", f"/conversations/{cid}/messages", expect=200))["items"]
        assert [m["direction"] for m in listed] == ["in", "out", "note", "out"]
        after_note = await alice_api.call("GET", f"/conversations/{cid}/messages?after={note['id']}", expect=200)
        assert [m["text"] for m in after_note["items"]] == ["马上为您查询"]
        conversation = await alice_api.call("GET", f"/conversations/{cid}", expect=200)
        assert conversation["last_message"]["text"] == "马上为您查询"
        assert (await Conversation.get(id=cid)).last_message_at > before.last_message_at  # the reply's, not the note's

        exported = [record async for page in export_records(ExportFilter()) for record in page]
        assert [(r["direction"], r["sender"]) for r in exported if r["id"] == note["id"]] == [("note", "agent")]


async def test_notes_take_odd_unicode_and_refuse_bad_input(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("carol", role="agent")
        api = AgentClient(session, gw.url, token)
        cid = (await gw.services.accept(InboundMessage("fake", "shop", "u1", "你好", "m1"))).conversation_id
        odd = "右→左 \u202e覆盖\u202c、零宽\u200b、emoji 👨‍👩‍👧、𠮷野家、tab\there"
        stored = await api.call("POST", f"/conversations/{cid}/notes", {"text": odd}, expect=201)
        assert stored["text"] == odd  # a note is the agents' own text: kept as written
        for body, status, code in (
                ({"text": ""}, 422, "empty_text"), ({"text": " \n\t "}, 422, "empty_text"),
                ({"text": "x" * 8001}, 422, "bad_field"), ({"text": 5}, 422, "bad_field"),
                ({}, 422, "missing_field"), ({"text": "ok", "to_customer": True}, 422, "unknown_field")):
            refused = await api.call("POST", f"/conversations/{cid}/notes", body, expect=status)
            assert refused["error"]["code"] == code, body
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for raw in (b"not json", b'{"text": "\\ud800"}', b"[]", b'{"text": "' + "长".encode() * 600_000 + b'"}'):
            async with session.post(f"{gw.url}/api/v1/conversations/{cid}/notes", data=raw,
                                    headers=headers) as response:
                assert response.status in (400, 413), (raw[:20], response.status)
        for path in ("999999", "0", "abc", "99999999999999999999", "%F0%9F%98%80"):
            await api.call("POST", f"/conversations/{path}/notes", {"text": "x"}, expect=404)
        async with session.post(f"{gw.url}/api/v1/conversations/{cid}/notes", json={"text": "x"}) as response:
            assert response.status == 401
        assert await Message.filter(conversation_id=cid, direction="note").count() == 1


async def test_the_widget_never_replays_a_note(tmp_path):
    async with running_gateway(tmp_path, channels=WEBCHAT) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("dora", role="agent")
        api = AgentClient(session, gw.url, token)
        visitor = await Visitor(session, gw.url, "visitor-0001").connect()
        acked = await visitor.say("c1", "下单后多久发货")
        await visitor.receive_until(lambda frame: frame["type"] == "message" and frame["from"] == "bot")
        await api.call("POST", f"/conversations/{acked['conversation_id']}/notes", {"text": "内部：勿告诉客户"},
                       expect=201)
        await visitor.close()

        again = await Visitor(session, gw.url, "visitor-0001").connect()
        await again.ws.send_json({"type": "resume", "after": 0})
        await again.ws.send_json({"type": "no-such-frame"})  # answered after the whole replay
        frames = []
        while (frame := await again.receive())["type"] != "error":
            frames.append(frame)
        assert [f["from"] for f in frames if f["type"] == "message"] == ["customer", "bot"]
        assert all("内部" not in json.dumps(f, ensure_ascii=False) for f in frames)
        await again.close()


async def test_the_outbox_refuses_a_row_naming_a_note(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("erin", role="agent")
        cid = (await gw.services.accept(InboundMessage("fake", "shop", "u1", "你好", "m1"))).conversation_id
        await gw.fake("shop").wait_sent(1)
        note = await AgentClient(session, gw.url, token).call("POST", f"/conversations/{cid}/notes",
                                                              {"text": "only for us"}, expect=201)
        at = now()  # a bug elsewhere queues the note: the outbox must still not send it
        row = await OutboxItem.create(message_id=note["id"], channel="fake", account="shop", state="pending",
                                      next_attempt_at=at, created_at=at, updated_at=at)
        gw.services.outbox.wake()

        async def refused() -> bool:
            return (await OutboxItem.get(id=row.id)).state == "failed"

        await wait_for_condition(refused)
        assert all(m.message_id != note["id"] for m in gw.fake("shop").attempts)
        assert (await Message.get(id=note["id"])).delivery is None


async def test_a_note_does_not_answer_a_waiting_customer(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("fay", role="agent", status="online")
        api = AgentClient(session, gw.url, token)
        cid = (await gw.services.accept(InboundMessage("fake", "shop", "u1", "人工客服", "m1"))).conversation_id
        await gw.services.pipeline.drain()
        await api.call("POST", f"/conversations/{cid}/take", expect=200)
        await api.call("POST", f"/conversations/{cid}/messages", {"text": "您好"}, expect=201)
        await gw.services.accept(InboundMessage("fake", "shop", "u1", "还在吗", "m2"))
        await gw.services.pipeline.drain()
        await api.call("POST", f"/conversations/{cid}/notes", {"text": "查一下物流"}, expect=201)
        kind, since = await WaitingLimits.waiting(await Conversation.get(id=cid))
        asked = await Message.get(external_id="m2")
        assert (kind, since) == ("next_response", asked.created_at)  # still waiting for a person's answer

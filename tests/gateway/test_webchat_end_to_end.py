"""A visitor's message carried through the real server: bot answer, hand-over, agent reply, resume."""

from __future__ import annotations

import asyncio

import aiohttp

from csgw.plugins.webchat.identity import sign_visitor
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, Visitor, add_agent, wait_delivered

WEBCHAT = [{"plugin": "webchat", "account": "default"}]


async def test_visitor_gets_bot_answer_then_agent_reply(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=WEBCHAT) as gw, \
            aiohttp.ClientSession() as session:
        _, token = await add_agent("alice", status="online")
        agent = AgentClient(session, gw.url, token)
        visitor = await Visitor(session, gw.url, "visitor-0001").connect()
        assert visitor.hello["type"] == "hello" and visitor.hello["config"]["title"] == "在线客服"

        ack = await visitor.say("c1", "下单后多久发货呀")
        answer = await visitor.receive_until(lambda f: f["type"] == "message")
        assert answer["from"] == "bot" and "48小时" in answer["text"]
        assert answer["id"] > ack["id"]

        async with session.ws_connect(gw.url + "/api/v1/events", params={"token": token}) as events:
            await visitor.say("c2", "转人工")
            joined = await visitor.receive_until(lambda f: f["type"] == "agent_joined")
            assert joined["name"] == "Alice"
            event = await asyncio.wait_for(events.receive_json(), 10)
            assert event["type"] in ("message.created", "conversation.updated")

        mine = await agent.call("GET", "/conversations?agent=me", expect=200)
        assert [c["id"] for c in mine["items"]] == [ack["conversation_id"]]
        assert mine["items"][0]["state"] == "assigned"

        reply = await agent.call("POST", f"/conversations/{ack['conversation_id']}/messages",
                                 {"text": "您好，我是Alice，马上帮您查"}, expect=201)
        seen = await visitor.receive_until(lambda f: f["type"] == "message" and f["from"] == "agent")
        assert seen["id"] == reply["id"] and seen["agent_name"] == "Alice"
        await visitor.close()


async def test_resume_replays_exactly_what_was_missed(tmp_path):
    async with running_gateway(tmp_path, channels=WEBCHAT) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("bob", status="online")
        agent = AgentClient(session, gw.url, token)
        visitor = await Visitor(session, gw.url, "visitor-0002").connect()
        await visitor.say("c1", "人工客服")
        seen = await visitor.receive_until(lambda f: f["type"] == "message" and f["from"] == "system")
        conversation_id = visitor.hello["conversation_id"] or (await agent.call("GET", "/conversations"))["items"][0]["id"]
        await visitor.close()

        missed = [await agent.call("POST", f"/conversations/{conversation_id}/messages", {"text": f"第{i}条"},
                                   expect=201) for i in range(3)]
        await wait_delivered([m["id"] for m in missed])
        back = await Visitor(session, gw.url, "visitor-0002").connect()
        assert back.hello["conversation_id"] == conversation_id
        await back.ws.send_json({"type": "resume", "after": seen["id"]})
        replayed = [await back.receive() for _ in missed]
        assert [f["id"] for f in replayed] == [m["id"] for m in missed]
        assert [f["text"] for f in replayed] == ["第0条", "第1条", "第2条"]
        await back.close()


async def test_retried_message_is_stored_once(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=WEBCHAT) as gw, \
            aiohttp.ClientSession() as session:
        visitor = await Visitor(session, gw.url, "visitor-0003").connect()
        first = await visitor.say("same", "你好")
        await visitor.receive_until(lambda f: f["type"] == "message")
        again = await visitor.say("same", "你好")
        assert again["id"] == first["id"]
        from csgw.gateway.models import Message

        assert await Message.filter(direction="in").count() == 1
        assert await Message.filter(direction="out").count() == 1


async def test_bad_frames_get_error_frames_and_the_socket_stays(tmp_path):
    async with running_gateway(tmp_path, channels=WEBCHAT) as gw, aiohttp.ClientSession() as session:
        visitor = await Visitor(session, gw.url, "visitor-0004").connect()
        cases = [
            ("{not json", "bad_json"), ("[1,2]", "bad_frame"), ('{"type":"dance"}', "unknown_type"),
            ('{"type":"message","client_id":"x","text":""}', "empty_text"),
            ('{"type":"message","text":"hi"}', "bad_client_id"),
            ('{"type":"message","client_id":"x","text":"' + "长" * 5000 + '"}', "text_too_long"),
            ('{"type":"resume","after":-1}', "bad_after"),
        ]
        for raw, code in cases:
            await visitor.ws.send_str(raw)
            frame = await visitor.receive()
            assert frame == {"type": "error", "code": code, "message": frame["message"]}
        await visitor.ws.send_bytes(b"\x00\x01")
        assert (await visitor.receive())["code"] == "bad_frame"
        assert (await visitor.say("ok", "你好"))["type"] == "ack"


async def test_socket_refusals(tmp_path):
    channels = [{"plugin": "webchat", "account": "default"},
                {"plugin": "webchat", "account": "members", "identity_secret": "s3cret"}]
    async with running_gateway(tmp_path, channels=channels) as gw, aiohttp.ClientSession() as session:
        async def status(**params: str) -> int:
            try:
                async with session.ws_connect(gw.url + "/widget/ws", params=params):
                    return 101
            except aiohttp.WSServerHandshakeError as error:
                return error.status

        assert await status(site="nope", visitor="visitor-0005") == 404
        assert await status(site="default", visitor="bad id!") == 400
        assert await status(site="members", visitor="member-0001", sig="00") == 401
        assert await status(site="members", visitor="member-0001", sig=sign_visitor("s3cret", "member-0001")) == 101


async def test_visitor_rate_limit(tmp_path):
    channels = [{"plugin": "webchat", "account": "default", "messages_per_minute": 3}]
    async with running_gateway(tmp_path, channels=channels) as gw, aiohttp.ClientSession() as session:
        visitor = await Visitor(session, gw.url, "visitor-0006").connect()
        for i in range(3):
            await visitor.say(f"m{i}", "随便问问")
        await visitor.ws.send_json({"type": "message", "client_id": "m3", "text": "再问"})
        frame = await visitor.receive_until(lambda f: f["type"] in ("error", "ack") and f.get("client_id") != "m2")
        assert frame["type"] == "error" and frame["code"] == "rate_limited"


async def test_agent_typing_reaches_the_visitor(tmp_path):
    async with running_gateway(tmp_path, channels=WEBCHAT) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("kim", status="online")
        agent = AgentClient(session, gw.url, token)
        visitor = await Visitor(session, gw.url, "visitor-0007").connect()
        ack = await visitor.say("c1", "人工")
        await agent.call("POST", f"/conversations/{ack['conversation_id']}/typing", {"on": True}, expect=200)
        frame = await visitor.receive_until(lambda f: f["type"] == "typing")
        assert frame == {"type": "typing", "from": "agent", "on": True}


def test_message_frames_carry_images_links_and_choices():
    from csgw.gateway.channel import OutboundMessage
    from csgw.plugins.webchat.channel import message_frame

    out = OutboundMessage(7, 1, "webchat", "default", "v", "尺码表见图", "bot",
                          {"image": "https://shop.example/size.png", "choices": [{"key": "1", "label": "鞋码"}],
                           "links": [{"url": "https://shop.example/s", "title": "尺码"}]})
    frame = message_frame(out)
    assert frame["image"] == "https://shop.example/size.png"
    assert frame["choices"] == [{"key": "1", "label": "鞋码"}] and frame["links"][0]["title"] == "尺码"
    from_kb = OutboundMessage(8, 1, "webchat", "default", "v", "见图", "bot", {"images": ["https://shop.example/a.png"]})
    assert message_frame(from_kb)["image"] == "https://shop.example/a.png"  # a KB entry's images


async def test_stopping_closes_open_agent_and_visitor_sockets(tmp_path):
    async with aiohttp.ClientSession() as session:
        running = running_gateway(tmp_path, channels=WEBCHAT)
        gw = await running.__aenter__()
        _, token = await add_agent("lee", status="online")
        events = await session.ws_connect(gw.url + "/api/v1/events", params={"token": token})
        visitor = await Visitor(session, gw.url, "visitor-0008").connect()
        # Without closing them first, the server would wait its whole shutdown timeout for them.
        await asyncio.wait_for(running.__aexit__(None, None, None), 10)
        assert (await events.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert (await visitor.ws.receive()).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)

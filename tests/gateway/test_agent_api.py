"""The agent API over HTTP: auth, listing and paging, state changes, customers, errors, OpenAPI."""

from __future__ import annotations

import aiohttp

from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Agent, Conversation, Customer, CustomerIdentity
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent

FAKE = [{"plugin": "fake", "account": "shop"}]


async def start_conversations(gw, count: int) -> list[int]:
    ids = []
    for i in range(count):
        accepted = await gw.services.accept(InboundMessage("fake", "shop", f"user-{i}", "你好", f"m-{i}"))
        ids.append(accepted.conversation_id)
    await gw.services.pipeline.drain()
    return ids


async def test_token_is_required_and_checked(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        await add_agent("dave")
        for headers in ({}, {"Authorization": "Bearer csgw_wrong"}, {"Authorization": "Basic abc"}):
            async with session.get(gw.url + "/api/v1/me", headers=headers) as response:
                assert response.status == 401
                assert (await response.json())["error"]["code"] == "unauthorized"
        assert (await Agent.get(name="dave")).token_hash.startswith("csgw_") is False


async def test_a_token_in_the_url_opens_only_the_events_socket(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("erin")
        async with session.ws_connect(f"{gw.url}/api/v1/events?token={token}") as socket:
            assert not socket.closed  # the console's live feed: browsers cannot set headers there
        for method, path in (("PUT", "/api/v1/kb/events"), ("GET", "/api/v1/me"),
                             ("GET", "/api/v1/events")):  # the events path, but not a WebSocket
            async with session.request(method, f"{gw.url}{path}?token={token}",
                                       json={"question": "q", "answer": "a"}) as response:
                assert response.status == 401, (method, path)


async def test_list_pages_newest_activity_first(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw, \
            aiohttp.ClientSession() as session:
        _, token = await add_agent("erin")
        agent = AgentClient(session, gw.url, token)
        await start_conversations(gw, 5)
        await gw.fake("shop").wait_sent(5)
        ids = await Conversation.all().order_by("-last_message_at", "-id").values_list("id", flat=True)
        first = await agent.call("GET", "/conversations?limit=2", expect=200)
        second = await agent.call("GET", f"/conversations?limit=2&cursor={first['next_cursor']}", expect=200)
        third = await agent.call("GET", f"/conversations?limit=2&cursor={second['next_cursor']}", expect=200)
        listed = [c["id"] for page in (first, second, third) for c in page["items"]]
        assert listed == list(ids) and third["next_cursor"] is None
        item = first["items"][0]
        assert {"id", "state", "priority", "group", "agent_id", "customer_id", "channel", "account",
                "opened_at", "waiting_since", "last_message"} <= item.keys()
        assert (await agent.call("GET", "/conversations?state=closed", expect=200))["items"] == []
        await agent.call("GET", "/conversations?state=nope", expect=400)
        await agent.call("GET", "/conversations?cursor=%%%", expect=400)


async def test_take_reply_transfer_close(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        frank, frank_token = await add_agent("frank")
        grace, grace_token = await add_agent("grace", status="online")
        f, g = AgentClient(session, gw.url, frank_token), AgentClient(session, gw.url, grace_token)
        [cid] = await start_conversations(gw, 1)
        taken = await f.call("POST", f"/conversations/{cid}/take", expect=200)
        assert taken["state"] == "assigned" and taken["agent_id"] == frank.id
        await g.call("POST", f"/conversations/{cid}/messages", {"text": "我来"}, expect=409)
        await f.call("POST", f"/conversations/{cid}/messages", {"text": ""}, expect=422)
        await f.call("POST", f"/conversations/{cid}/messages", {"words": "x"}, expect=422)
        sent = await f.call("POST", f"/conversations/{cid}/messages", {"text": "您好", "kb_entry_id": "ship-time"},
                            expect=201)
        assert sent["sender"] == "agent" and sent["agent_id"] == frank.id
        assert sent["payload"]["kb_entry_id"] == "ship-time"  # what the bot learns from
        moved = await f.call("POST", f"/conversations/{cid}/transfer", {"agent_id": grace.id, "note": "鞋类问题"}, expect=200)
        assert moved["agent_id"] == grace.id and moved["flags"]["transfer_note"] == "鞋类问题"
        await f.call("POST", f"/conversations/{cid}/transfer", {"agent_id": 999}, expect=422)
        messages = await g.call("GET", f"/conversations/{cid}/messages", expect=200)
        assert [m["sender"] for m in messages["items"]][:2] == ["customer", "bot"]
        after = await g.call("GET", f"/conversations/{cid}/messages?after={sent['id']}", expect=200)
        assert all(m["id"] > sent["id"] for m in after["items"])
        closed = await g.call("POST", f"/conversations/{cid}/close", expect=200)
        assert closed["state"] == "closed" and closed["closed_at"]
        await g.call("POST", f"/conversations/{cid}/close", expect=409)
        await g.call("GET", "/conversations/12345", expect=404)
        first_response = await g.call("GET", f"/conversations/{cid}", expect=200)
        assert first_response["first_response_at"] is not None


async def test_status_online_pulls_the_queue_oldest_first(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("heidi", max_concurrent=1)
        agent = AgentClient(session, gw.url, token)
        for i in range(2):
            await gw.services.accept(InboundMessage("fake", "shop", f"user-{i}", "转人工", f"m-{i}"))
        await gw.services.pipeline.drain()
        queued = await agent.call("GET", "/conversations?state=queued", expect=200)
        oldest = min(c["id"] for c in queued["items"])
        me = await agent.call("PUT", "/me/status", {"status": "online"}, expect=200)
        assert me["status"] == "online"
        mine = await agent.call("GET", "/conversations?agent=me", expect=200)
        assert [c["id"] for c in mine["items"]] == [oldest]
        await agent.call("PUT", "/me/status", {"status": "sleeping"}, expect=422)
        team = await agent.call("GET", "/agents", expect=200)
        assert team["items"][0]["load"] == 1 and team["items"][0]["max_concurrent"] == 1


async def test_customer_profile_patch(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("ivan")
        agent = AgentClient(session, gw.url, token)
        await start_conversations(gw, 1)
        conversation = (await agent.call("GET", "/conversations"))["items"][0]
        customer = await agent.call("GET", f"/customers/{conversation['customer_id']}", expect=200)
        assert customer["identities"][0]["platform_user_id"] == "user-0"
        patched = await agent.call("PATCH", f"/customers/{customer['id']}",
                                   {"tags": ["老客户"], "vip": True, "state": "ordered", "notes": "爱买鞋"}, expect=200)
        assert patched["tags"] == ["老客户"] and patched["vip"] and patched["state"] == "ordered"
        await agent.call("PATCH", f"/customers/{customer['id']}", {"name": "王小姐"}, expect=200)
        listed = await agent.call("GET", "/conversations", expect=200)
        assert listed["items"][0]["customer_name"] == "王小姐"
        await agent.call("PATCH", f"/customers/{customer['id']}", {"state": "happy"}, expect=422)
        await agent.call("PATCH", f"/customers/{customer['id']}", {"shoe_size": 42}, expect=422)


async def test_bad_bodies_get_clear_4xx(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE, server={"max_body_bytes": 4096}) as gw, \
            aiohttp.ClientSession() as session:
        _, token = await add_agent("judy")
        [cid] = await start_conversations(gw, 1)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        url = f"{gw.url}/api/v1/conversations/{cid}/messages"
        for body, status, code in ((b"{nope", 400, "bad_json"), (b"[1]", 400, "bad_json"),
                                   (b'{"text": "' + b"x" * 8000 + b'"}', 413, "too_large")):
            async with session.post(url, data=body, headers=headers) as response:
                assert response.status == status
                assert (await response.json())["error"]["code"] == code


async def test_openapi_document_matches_the_routes(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        async with session.get(gw.url + "/api/v1/openapi.json") as response:
            document = await response.json()
        served = set()
        for route in gw.server.app.router.routes():
            path = route.resource.canonical if route.resource else ""
            if path.startswith("/api/v1/") and path != "/api/v1/openapi.json" and route.method != "HEAD":
                served.add((route.method.lower(), path))
        documented = {(method, path) for path, ops in document["paths"].items() for method in ops}
        assert served == documented
        for contract_path in ("/api/v1/me", "/api/v1/me/status", "/api/v1/agents", "/api/v1/conversations",
                              "/api/v1/conversations/{id}/messages", "/api/v1/conversations/{id}/take",
                              "/api/v1/conversations/{id}/close", "/api/v1/conversations/{id}/transfer",
                              "/api/v1/customers/{id}", "/api/v1/events"):
            assert contract_path in document["paths"]


async def test_rotating_a_token_closes_the_sockets_it_opened(tmp_path, monkeypatch):
    from csgw.gateway.api import events
    from csgw.gateway.sessions import hash_token, new_token

    monkeypatch.setattr(events, "TOKEN_CHECK_SECONDS", 0.05)
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("frank")
        async with session.ws_connect(f"{gw.url}/api/v1/events",
                                      headers={"Authorization": f"Bearer {token}"}) as socket:
            # what `csgw agents token frank` does, from another process: a new hash in the store
            await Agent.filter(name="frank").update(token_hash=hash_token(new_token()))
            closing = await socket.receive(timeout=10)
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4401


async def test_an_agent_acts_on_their_own_and_waiting_conversations_a_supervisor_on_all(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, boss_token = await add_agent("boss", status="online")
        ann, ann_token = await add_agent("ann", role="agent", status="online", skills=["售后"])
        bob, bob_token = await add_agent("bob", role="agent", status="online")
        ann_api, bob_api = AgentClient(session, gw.url, ann_token), AgentClient(session, gw.url, bob_token)
        boss = AgentClient(session, gw.url, boss_token)
        [first] = await start_conversations(gw, 1)
        await ann_api.call("POST", f"/conversations/{first}/take", expect=200)
        # bob may neither close, transfer (to himself) nor reply to ann's conversation
        refused = await bob_api.call("POST", f"/conversations/{first}/close", expect=403)
        assert refused["error"]["code"] == "forbidden"
        await bob_api.call("POST", f"/conversations/{first}/transfer",
                           {"agent_id": bob.id, "force": True}, expect=403)
        assert (await Conversation.get(id=first)).agent_id == ann.id
        # his own profile's name, yes; his capacity or ann's name, no
        await bob_api.call("PATCH", f"/agents/{bob.id}", {"display_name": "Bobby"}, expect=200)
        await bob_api.call("PATCH", f"/agents/{bob.id}", {"max_concurrent": 50}, expect=403)
        await bob_api.call("PATCH", f"/agents/{ann.id}", {"display_name": "x"}, expect=403)
        # the knowledge base is a supervisor's
        await bob_api.call("PUT", "/kb/x", {"question": "q", "answer": "a"}, expect=403)
        # the supervisor moves the conversation and may change anyone's settings
        await boss.call("POST", f"/conversations/{first}/transfer", {"agent_id": bob.id, "force": True},
                        expect=200)
        await bob_api.call("POST", f"/conversations/{first}/close", expect=200)
        await boss.call("PATCH", f"/agents/{ann.id}", {"max_concurrent": 7}, expect=200)
        me = await ann_api.call("GET", "/me", expect=200)
        assert me["role"] == "agent" and me["max_concurrent"] == 7


async def test_conversations_name_the_customer_by_profile_name_or_channel_nickname(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("ivy", status="online")
        agent = AgentClient(session, gw.url, token)
        named, nicknamed, anonymous = await start_conversations(gw, 3)
        for conversation_id, name, profile in ((named, "王女士", {"nickname": "wang"}),
                                               (nicknamed, "", {"nickname": " 阿强 "}), (anonymous, "", {})):
            customer_id = (await Conversation.get(id=conversation_id)).customer_id
            await Customer.filter(id=customer_id).update(name=name)
            await CustomerIdentity.filter(customer_id=customer_id).update(profile=profile)
        listed = {c["id"]: c["customer_name"] for c in (await agent.call("GET", "/conversations", expect=200))["items"]}
        assert listed == {named: "王女士", nicknamed: "阿强", anonymous: None}
        for conversation_id, name in listed.items():
            assert (await agent.call("GET", f"/conversations/{conversation_id}", expect=200))["customer_name"] == name

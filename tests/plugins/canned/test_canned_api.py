"""Canned replies through the real server: supervisors manage them, agents see the shared ones
and their groups', any agent fills one in for a conversation; bad input gets a clear 4xx."""

from __future__ import annotations

import aiohttp

from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Customer
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent

FAKE = [{"plugin": "fake", "account": "shop"}]
REFUND = {"title": "退款进度", "shortcut": "/退款", "group": None,
          "text": "{customer_name}您好，订单 {order_no} 的退款已提交，预计 1-3 个工作日到账。——{agent_name}"}


async def test_supervisors_manage_agents_use(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw, \
            aiohttp.ClientSession() as session:
        boss = AgentClient(session, gw.url, (await add_agent("boss"))[1])
        presale = AgentClient(session, gw.url, (await add_agent("amy", skills=["售前"], role="agent"))[1])
        aftersale = AgentClient(session, gw.url, (await add_agent("ben", skills=["售后"], role="agent"))[1])

        shared = await boss.call("POST", "/canned", REFUND, expect=201)
        assert shared["shortcut"] == "/退款" and shared["group"] is None
        assert shared["variables"] == ["customer_name", "order_no", "agent_name"]
        sizes = await boss.call("POST", "/canned", {"title": "尺码建议", "shortcut": "／尺码 ", "group": " 售前 ",
                                                    "text": "您好，{customer_name}！\n身高体重发我一下～"}, expect=201)
        assert (sizes["shortcut"], sizes["group"]) == ("/尺码", "售前")
        await boss.call("POST", "/canned", {**REFUND, "title": "售后退款", "group": "售后"}, expect=201)

        def shortcuts(page):
            return sorted((item["shortcut"], item["group"] or "") for item in page["items"])

        assert shortcuts(await presale.call("GET", "/canned", expect=200)) == [("/尺码", "售前"), ("/退款", "")]
        assert shortcuts(await aftersale.call("GET", "/canned", expect=200)) == [("/退款", ""), ("/退款", "售后")]
        assert len((await boss.call("GET", "/canned", expect=200))["items"]) == 3
        assert shortcuts(await boss.call("GET", "/canned?group=%E5%94%AE%E5%89%8D", expect=200)) \
            == [("/尺码", "售前"), ("/退款", "")]
        found = await presale.call("GET", "/canned?q=%E8%BA%AB%E9%AB%98", expect=200)  # 身高, in the text
        assert [item["id"] for item in found["items"]] == [sizes["id"]]
        assert (await presale.call("GET", "/canned", expect=200))["variables"] == [
            "customer_name", "agent_name", "order_no"]
        await aftersale.call("GET", f"/canned/{sizes['id']}", expect=404)  # another group's

        for call in (("POST", "/canned", REFUND), ("PUT", f"/canned/{shared['id']}", REFUND),
                     ("DELETE", f"/canned/{shared['id']}", None)):
            refused = await presale.call(*call, expect=403)
            assert refused["error"]["code"] == "forbidden"

        changed = await boss.call("PUT", f"/canned/{sizes['id']}",
                                  {"title": "尺码", "shortcut": "/size", "text": "发我身高体重", "group": None}, expect=200)
        assert (changed["shortcut"], changed["group"], changed["variables"]) == ("/size", None, [])
        await aftersale.call("GET", f"/canned/{sizes['id']}", expect=200)  # shared now
        assert (await boss.call("DELETE", f"/canned/{sizes['id']}", expect=200)) == {"deleted": sizes["id"]}
        await boss.call("GET", f"/canned/{sizes['id']}", expect=404)
        await boss.call("DELETE", f"/canned/{sizes['id']}", expect=404)


async def test_a_reply_is_filled_in_for_a_conversation_and_its_agent(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        boss = AgentClient(session, gw.url, (await add_agent("boss"))[1])
        amy = AgentClient(session, gw.url, (await add_agent("amy", role="agent"))[1])
        canned = await boss.call("POST", "/canned", REFUND, expect=201)
        known = await gw.services.accept(InboundMessage("fake", "shop", "u1", "退款", "m1", profile={"nickname": "小王"}))
        await Customer.filter(id=(await Customer.all().first()).id).update(
            orders=[{"order_id": "E1001", "channel": "fake"}, {"order_id": "E1002", "channel": "fake"}])
        unknown = await gw.services.accept(InboundMessage("fake", "shop", "u2", "退款", "m2"))

        filled = await amy.call("GET", f"/canned/{canned['id']}/render?conversation_id={known.conversation_id}",
                                expect=200)
        assert filled["text"] == "小王您好，订单 E1002 的退款已提交，预计 1-3 个工作日到账。——Amy"
        assert filled["missing"] == []
        bare = await amy.call("GET", f"/canned/{canned['id']}/render?conversation_id={unknown.conversation_id}",
                              expect=200)
        assert bare["text"] == "您好，订单  的退款已提交，预计 1-3 个工作日到账。——Amy"
        assert bare["missing"] == ["customer_name", "order_no"]

        for query, status in (("", 400), ("?conversation_id=abc", 404), ("?conversation_id=999999", 404),
                              ("?conversation_id=1&conversation_id=2", 400), ("?conversation=1", 400)):
            await amy.call("GET", f"/canned/{canned['id']}/render{query}", expect=status)
        await amy.call("GET", f"/canned/999999/render?conversation_id={known.conversation_id}", expect=404)


async def test_bad_canned_replies_get_a_clear_4xx(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        boss = AgentClient(session, gw.url, (await add_agent("boss"))[1])
        await boss.call("POST", "/canned", REFUND, expect=201)
        taken = await boss.call("POST", "/canned", {**REFUND, "shortcut": "退款"}, expect=409)
        assert taken["error"]["code"] == "shortcut_taken"
        await boss.call("POST", "/canned", {**REFUND, "group": "售后"}, expect=201)  # another group may
        cases = [
            ({**REFUND, "text": "您好 {orderno}"}, "unknown_variable"),
            ({**REFUND, "text": "x" * 4001}, "bad_field"), ({**REFUND, "text": "   "}, "bad_field"),
            ({**REFUND, "text": "nul\x00byte"}, "bad_field"), ({**REFUND, "title": "x" * 101}, "bad_field"),
            ({**REFUND, "title": "零宽\u200b"}, "bad_field"), ({**REFUND, "title": ""}, "bad_field"),
            ({**REFUND, "shortcut": "/two words"}, "bad_field"), ({**REFUND, "shortcut": "/"}, "bad_field"),
            ({**REFUND, "shortcut": "/a/b"}, "bad_field"), ({**REFUND, "shortcut": "/" + "长" * 33}, "bad_field"),
            ({**REFUND, "group": ""}, "bad_field"), ({**REFUND, "group": 3}, "bad_field"),
            ({**REFUND, "group": "g" * 65}, "bad_field"), ({**REFUND, "title": 5}, "bad_field"),
            ({"title": "t", "shortcut": "/t"}, "missing_field"), ({**REFUND, "colour": "red"}, "unknown_field"),
        ]
        for body, code in cases:
            refused = await boss.call("POST", "/canned", body, expect=422)
            assert refused["error"]["code"] == code, body
        odd = await boss.call("POST", "/canned", {"title": "𠮷野家 👨‍👩‍👧 \u202a", "shortcut": "/𠮷", "text": "ok"},
                              expect=422)  # a bidi embedding in a title is refused ...
        assert odd["error"]["code"] == "bad_field"
        kept = await boss.call("POST", "/canned", {"title": "𠮷野家 🎁", "shortcut": "/𠮷", "group": None,
                                                   "text": "满 299 减 30 🎁\n\t活动至月底"}, expect=201)
        assert kept["text"] == "满 299 减 30 🎁\n\t活动至月底"  # ... lines and tabs in a text are kept
        headers = {"Authorization": f"Bearer {boss.token}", "Content-Type": "application/json"}
        for raw in (b"{", b'{"title": "\\udfff", "shortcut": "/x", "text": "y"}', b'"text"'):
            async with session.post(f"{gw.url}/api/v1/canned", data=raw, headers=headers) as response:
                assert response.status == 400
        for ident in ("0", "abc", "99999999999999999999", "１"):
            await boss.call("GET", f"/canned/{ident}", expect=404)
            await boss.call("PUT", f"/canned/{ident}", REFUND, expect=404)
        await boss.call("GET", "/canned?q=" + "x" * 101, expect=400)
        await boss.call("GET", "/canned?sort=title", expect=400)
        await boss.call("GET", "/canned?group=" + "g" * 65, expect=400)
        async with session.get(f"{gw.url}/api/v1/canned") as response:
            assert response.status == 401
        routes = (await boss.call("GET", "/openapi.json", expect=200))["paths"]
        for path in ("/api/v1/canned", "/api/v1/canned/{id}", "/api/v1/canned/{id}/render",
                     "/api/v1/conversations/{id}/notes", "/api/v1/conversations/{id}/tags", "/api/v1/tags"):
            assert path in routes, path
        assert {"post", "delete"} <= set(routes["/api/v1/conversations/{id}/tags"])

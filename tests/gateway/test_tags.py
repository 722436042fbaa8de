"""Conversation tags through the real server: put on and taken off by agents, put on by the bot
(KB category, escalation lane), filtered on in the list; bad input gets a 4xx."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import ConversationTag
from csgw.gateway.tags import TagError, normalise_tag
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent, next_event, wait_for_condition

FAKE = [{"plugin": "fake", "account": "shop"}]


async def conversation_with(gw, user: str, text: str) -> int:
    accepted = await gw.services.accept(InboundMessage("fake", "shop", user, text, f"{user}-1"))
    await gw.services.pipeline.drain()
    return accepted.conversation_id


def names(tags: list[dict[str, Any]]) -> list[str]:
    return [tag["tag"] for tag in tags]


@pytest.mark.parametrize(("raw", "tag"), [
    ("  ＶＩＰ　客户  ", "VIP 客户"), ("退款\n\t加急", "退款 加急"), ("物流/发货", "物流/发货"), ("😀", "😀"),
    ("ｒｅｆｕｎｄ１２", "refund12"),
])
def test_a_tag_has_one_spelling(raw, tag):
    assert normalise_tag(raw) == tag


@pytest.mark.parametrize("raw", ["", "   ", "a\u200bb", "\u202eevil", "bad\x00", "x" * 33, 7, None])
def test_a_tag_that_cannot_be_is_refused(raw):
    with pytest.raises(TagError):
        normalise_tag(raw)


async def test_agents_tag_untag_and_filter(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw, \
            aiohttp.ClientSession() as session:
        agent, token = await add_agent("gina", role="agent")
        _, watcher_token = await add_agent("hank", role="agent")
        api = AgentClient(session, gw.url, token)
        first, second, third = [await conversation_with(gw, f"user-{n}", "你好") for n in range(3)]

        async with session.ws_connect(f"{gw.url}/api/v1/events",
                                      headers={"Authorization": f"Bearer {watcher_token}"}) as events:
            tagged = await api.call("POST", f"/conversations/{first}/tags", {"tag": " ＶＩＰ　回访 "}, expect=200)
            assert (await next_event(events, "tags.updated")) == tagged
        assert tagged["conversation_id"] == first and names(tagged["tags"]) == ["VIP 回访"]
        assert tagged["tags"][0]["source"] == "agent" and tagged["tags"][0]["agent_id"] == agent.id
        again = await api.call("POST", f"/conversations/{first}/tags", {"tag": "VIP 回访"}, expect=200)
        assert names(again["tags"]) == ["VIP 回访"]  # already there: left as it is
        await api.call("POST", f"/conversations/{first}/tags", {"tag": "物流"}, expect=200)
        await api.call("POST", f"/conversations/{second}/tags", {"tag": "物流"}, expect=200)

        async def listed(query: str) -> list[int]:
            return [c["id"] for c in (await api.call("GET", f"/conversations?{query}", expect=200))["items"]]

        assert sorted(await listed("tag=%E7%89%A9%E6%B5%81")) == sorted([first, second])
        assert await listed("tag=VIP%20%E5%9B%9E%E8%AE%BF") == [first]
        assert await listed("tag=%EF%BC%B6%EF%BC%A9%EF%BC%B0%E3%80%80%E5%9B%9E%E8%AE%BF") == [first]  # full width
        assert await listed("tag=%E7%89%A9%E6%B5%81&tag=VIP+%E5%9B%9E%E8%AE%BF") == [first]  # every one given
        assert await listed("tag=nobody-has-this") == []
        assert third in await listed("state=open")
        item = next(c for c in (await api.call("GET", "/conversations", expect=200))["items"] if c["id"] == first)
        assert names(item["tags"]) == ["VIP 回访", "物流"]
        assert names((await api.call("GET", f"/conversations/{first}", expect=200))["tags"]) == ["VIP 回访", "物流"]
        in_use = (await api.call("GET", "/tags", expect=200))["items"]
        assert in_use[0] == {"tag": "物流", "conversations": 2}

        untagged = await api.call("DELETE", f"/conversations/{first}/tags", {"tag": "ＶＩＰ 回访"}, expect=200)
        assert names(untagged["tags"]) == ["物流"]
        missing = await api.call("DELETE", f"/conversations/{first}/tags", {"tag": "VIP 回访"}, expect=404)
        assert missing["error"]["code"] == "not_found"
        assert await listed("tag=VIP%20%E5%9B%9E%E8%AE%BF") == []


async def test_bad_tags_and_bad_list_queries_get_a_clear_4xx(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("ivy", role="agent")
        api = AgentClient(session, gw.url, token)
        cid = await conversation_with(gw, "user-1", "你好")
        for body, code in (({"tag": ""}, "bad_tag"), ({"tag": "a\u200bb"}, "bad_tag"), ({"tag": "x" * 33}, "bad_tag"),
                           ({"tag": 5}, "bad_tag"), ({"tag": ["a"]}, "bad_tag"), ({}, "missing_field"),
                           ({"tag": "a", "colour": "red"}, "unknown_field")):
            refused = await api.call("POST", f"/conversations/{cid}/tags", body, expect=422)
            assert refused["error"]["code"] == code, body
        for path in ("999999", "abc", "99999999999999999999"):
            await api.call("POST", f"/conversations/{path}/tags", {"tag": "a"}, expect=404)
            await api.call("DELETE", f"/conversations/{path}/tags", {"tag": "a"}, expect=404)
        for number in range(50):
            await api.call("POST", f"/conversations/{cid}/tags", {"tag": f"t{number}"}, expect=200)
        assert (await api.call("POST", f"/conversations/{cid}/tags", {"tag": "one more"},
                               expect=422))["error"]["code"] == "too_many_tags"
        await api.call("POST", f"/conversations/{cid}/tags", {"tag": "t7"}, expect=200)  # has it: fine

        for query, code in (("tags=vip", "unknown_parameter"), ("tag=%E2%80%8B", "bad_tag"),
                            ("tag=" + "x" * 40, "bad_tag"), ("state=open&state=closed", "repeated_parameter"),
                            ("limit=0", "bad_limit"), ("limit=201", "bad_limit"), ("limit=-1", "bad_limit"),
                            ("mine=true", "unknown_parameter"), ("state=nope", "bad_state"),
                            ("group=" + "g" * 65, "bad_group")):  # was a 500: longer than the column
            refused = await api.call("GET", f"/conversations?{query}", expect=400)
            assert refused["error"]["code"] == code, query
        await api.call("GET", f"/conversations/{cid}/messages?after=1&before=2", expect=400)
        await api.call("GET", "/tags?limit=0", expect=400)
        async with session.get(f"{gw.url}/api/v1/conversations?tags=vip") as response:
            assert response.status == 401  # who asks is checked before what they ask


async def test_the_bot_tags_the_category_it_answered_and_the_escalation_lane(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw, \
            aiohttp.ClientSession() as session:
        _, token = await add_agent("jack", role="agent", status="online")
        api = AgentClient(session, gw.url, token)
        shipping = await conversation_with(gw, "user-1", "下单后多久发货呀")
        complaint = await conversation_with(gw, "user-2", "我要投诉，你们发错货了")

        async def tagged() -> bool:
            return await ConversationTag.filter(conversation_id__in=[shipping, complaint]).count() >= 2

        await wait_for_condition(tagged)
        shipped = (await api.call("GET", f"/conversations/{shipping}", expect=200))["tags"]
        assert [(t["tag"], t["source"]) for t in shipped] == [("订单/物流", "reply")]
        lanes = (await api.call("GET", f"/conversations/{complaint}", expect=200))["tags"]
        assert ("complaint", "classifier") in [(t["tag"], t["source"]) for t in lanes]

        await gw.services.accept(InboundMessage("fake", "shop", "user-1", "多久发货", "user-1-2"))
        await gw.services.pipeline.drain()
        assert await ConversationTag.filter(conversation_id=shipping).count() == 1  # asked again: one tag
        assert [c["id"] for c in (await api.call("GET", "/conversations?tag=complaint", expect=200))["items"]] \
            == [complaint]
        # an agent may take off what the bot put on
        await api.call("DELETE", f"/conversations/{shipping}/tags", {"tag": "订单/物流"}, expect=200)

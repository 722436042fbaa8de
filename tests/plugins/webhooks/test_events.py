"""Every webhook event, made the way a shop makes it, reaches a real receiver through the real
gateway: signed with the secret, with its documented payload, once per delivery id."""

from __future__ import annotations

import aiohttp

from csgw.gateway.channel import InboundMessage
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent, wait_for_condition
from tests.plugins.webhooks.helpers import settled

FAKE = [{"plugin": "fake", "account": "shop"}]


def said(text: str, n: int, user: str = "u-1") -> InboundMessage:
    return InboundMessage("fake", "shop", user, text, f"{user}-m{n}")


async def test_a_day_at_the_desk_sends_each_event_signed(tmp_path, receiver, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE,
                               webhooks=[receiver.endpoint()]) as gw, aiohttp.ClientSession() as session:
        agent, token = await add_agent("li", status="online")
        desk = AgentClient(session, gw.url, token)
        asked = await gw.services.accept(said("下单后多久发货", 1))
        conversation_id = asked.conversation_id
        await gw.services.pipeline.drain()  # the customer reads the answer, then asks for a person
        await gw.services.accept(said("转人工", 2))
        await receiver.wait_for(lambda: receiver.accepted("conversation.assigned"))
        await desk.call("POST", f"/conversations/{conversation_id}/messages", {"text": "您好，我是小李"}, expect=201)
        await desk.call("POST", f"/conversations/{conversation_id}/close", expect=200)
        await gw.services.accept(said("5", 3))
        customer = (await desk.call("GET", f"/conversations/{conversation_id}", expect=200))["customer_id"]
        await desk.call("PATCH", f"/customers/{customer}", {"name": "王女士", "vip": True}, expect=200)
        await receiver.wait_for(lambda: receiver.accepted("customer.updated") and receiver.accepted(
            "satisfaction.rated"))

        assert all(r.signed for r in receiver.received)
        assert len({r.delivery_id for r in receiver.received}) == len(receiver.received)
        assert all(r.body["id"] == r.delivery_id and r.body["event"] == r.event for r in receiver.received)
        messages = [r.data for r in receiver.accepted("message.created")]
        assert [(m["direction"], m["sender"]) for m in messages][:2] == [("in", "customer"), ("out", "bot")]
        assert messages[0] | {"created_at": None, "message_id": None} == {
            "message_id": None, "conversation_id": conversation_id, "customer_id": customer, "channel": "fake",
            "account": "shop", "direction": "in", "sender": "customer", "agent_id": None, "kind": "text",
            "text": "下单后多久发货", "created_at": None}
        by_agent = [m for m in messages if m["sender"] == "agent"]
        assert [(m["text"], m["agent_id"]) for m in by_agent] == [("您好，我是小李", agent.id)]

        [assigned] = [r.data for r in receiver.accepted("conversation.assigned")]
        assert assigned["agent"] == {"id": agent.id, "name": "li", "display_name": "Li"}
        assert (assigned["conversation_id"], assigned["customer_id"], assigned["reason"]) == (
            conversation_id, customer, "handover")
        [closed] = [r.data for r in receiver.accepted("conversation.closed")]
        assert (closed["conversation_id"], closed["agent_id"], closed["channel"], closed["account"]) == (
            conversation_id, agent.id, "fake", "shop")
        assert closed["closed_at"] is not None
        [rated] = [r.data for r in receiver.accepted("satisfaction.rated")]
        assert (rated["conversation_id"], rated["customer_id"], rated["agent_id"], rated["score"]) == (
            conversation_id, customer, agent.id, 5)
        [updated] = [r.data for r in receiver.accepted("customer.updated")]
        assert updated["customer_id"] == customer and updated["changed"] == ["name", "vip"]
        assert (updated["name"], updated["vip"], updated["merged_customer_id"]) == ("王女士", True, None)


async def test_an_endpoint_gets_only_its_events_and_two_endpoints_each_their_own_delivery(tmp_path, receiver):
    closes = receiver.endpoint(name="crm", events=["conversation.closed"])
    everything = receiver.endpoint(name="erp", url=receiver.url + "?token=abc")
    async with running_gateway(tmp_path, channels=FAKE, webhooks=[closes, everything]) as gw:
        asked = await gw.services.accept(said("你好", 1))
        await gw.fake("shop").wait_sent(1)
        await gw.services.accept(said("结束", 2))
        await receiver.wait_for(lambda: len(receiver.accepted("conversation.closed")) == 2)
        closed = receiver.accepted("conversation.closed")
        assert {r.data["conversation_id"] for r in closed} == {asked.conversation_id}
        assert closed[0].delivery_id != closed[1].delivery_id
        await wait_for_condition(settled)
    # only "erp" asked for messages: each once, the customer's two and the gateway's answers
    messages = receiver.accepted("message.created")
    assert len(messages) == len({r.data["message_id"] for r in messages}) >= 3
    assert {r.event for r in receiver.received} == {"message.created", "conversation.closed"}


async def test_a_survey_rating_a_binding_a_merge_and_an_order_push_are_sent(tmp_path, receiver):
    async with running_gateway(tmp_path, channels=FAKE, webhooks=[receiver.endpoint(
            events=["customer.updated", "satisfaction.rated"])]) as gw, aiohttp.ClientSession() as session:
        _, token = await add_agent("li")
        desk = AgentClient(session, gw.url, token)
        first = await gw.services.accept(said("你好", 1, user="u-1"))
        second = await gw.services.accept(said("你好", 1, user="u-2"))
        first_customer = (await desk.call("GET", f"/conversations/{first.conversation_id}"))["customer_id"]
        second_customer = (await desk.call("GET", f"/conversations/{second.conversation_id}"))["customer_id"]
        await gw.services.rate(first.conversation_id, 4)  # the widget's survey frame
        await gw.services.bind_customer(second_customer, "shop-42")
        await desk.call("POST", f"/customers/{first_customer}/merge", {"other_id": second_customer}, expect=200)
        await gw.services.attach_order("fake", "shop", "u-1", {"order_id": "E1001", "status": "paid"})
        await receiver.wait_for(lambda: len(receiver.accepted("customer.updated")) == 3)

        [rated] = [r.data for r in receiver.accepted("satisfaction.rated")]
        assert (rated["conversation_id"], rated["score"], rated["message_id"]) == (first.conversation_id, 4, None)
        bound, merged, ordered = [r.data for r in receiver.accepted("customer.updated")]
        assert (bound["customer_id"], bound["shop_user_id"], bound["changed"]) == (
            second_customer, "shop-42", ["shop_user_id"])
        assert (merged["customer_id"], merged["merged_customer_id"], merged["shop_user_id"]) == (
            first_customer, second_customer, "shop-42")
        assert (ordered["customer_id"], ordered["changed"]) == (first_customer, ["orders"])

"""Customers: one profile across channels (merge), orders moving the state, history kept."""

from __future__ import annotations

from csgw.gateway.models import Conversation, Customer, CustomerIdentity
from tests.gateway.helpers import AgentClient, add_agent
from tests.routing.conftest import shop


async def test_merge_binds_identities_history_and_orders(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        _, token = await add_agent("a")
        agent = AgentClient(s.session, s.gw.url, token)
        keep = await s.say("wx-user", "问一下尺码")
        other = await s.say("web-user", "问一下发货")
        await agent.call("PATCH", f"/customers/{keep.customer_id}", {"tags": ["老客"], "notes": "微信"}, expect=200)
        patched = await agent.call("PATCH", f"/customers/{other.customer_id}",
                                   {"tags": ["VIP"], "orders": [{"id": "A1", "amount": 99}]}, expect=200)
        assert patched["state"] == "ordered"  # an order moves a pre-sale customer on
        await agent.call("PATCH", f"/customers/{other.customer_id}", {"orders": {"id": 1}}, expect=422)
        merged = await agent.call("POST", f"/customers/{keep.customer_id}/merge",
                                  {"other_id": other.customer_id}, expect=200)
        assert {i["platform_user_id"] for i in merged["identities"]} == {"wx-user", "web-user"}
        assert merged["tags"] == ["老客", "VIP"] and merged["orders"] == [{"id": "A1", "amount": 99}]
        assert merged["state"] == "ordered" and merged["notes"] == "微信"
        assert {c["id"] for c in merged["conversations"]} == {keep.id, other.id}
        assert await Customer.get_or_none(id=other.customer_id) is None
        later = await s.say("web-user", "问一下退货")  # the identity cache must not resurrect the old customer
        assert later.customer_id == keep.customer_id
        assert await CustomerIdentity.filter(customer_id=keep.customer_id).count() == 2
        assert await Conversation.filter(customer_id=other.customer_id).count() == 0
        await agent.call("POST", f"/customers/{keep.customer_id}/merge", {"other_id": keep.customer_id}, expect=422)
        await agent.call("POST", f"/customers/{keep.customer_id}/merge", {"other_id": 999}, expect=404)
        await agent.call("POST", f"/customers/{keep.customer_id}/merge", {}, expect=422)

"""Order pushes on the customer's profile: one customer-by-identity plan, the store told of the change."""

from __future__ import annotations

from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Customer, CustomerIdentity
from csgw.testing import running_gateway

FAKE = [{"plugin": "fake", "account": "a"}]


async def test_an_order_for_a_new_customer_updates_the_profile_and_the_store_knows(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        stored = await gw.services.store.store_inbound(InboundMessage("fake", "a", "u-1", "在吗", "m-1"))
        assert stored.new_customer and gw.services.store.unchanged_new_customer(stored)
        update = {"order_id": "o-9", "status": "paid", "event": "order_paid"}
        customer_id = await gw.services.attach_order("fake", "a", "u-1", update)
        assert customer_id == stored.customer_id
        assert not gw.services.store.unchanged_new_customer(stored)  # it has an order now
        await gw.services.attach_order("fake", "a", "u-1", update)  # a repeated push changes nothing
        customer = await Customer.get(id=customer_id)
        assert customer.state == "ordered"
        assert [(o["order_id"], o["status"], o["events"]) for o in customer.orders] == [
            ("o-9", "paid", ["order_paid"])]


async def test_an_order_for_an_unknown_buyer_creates_the_customer_once(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE) as gw:
        first = await gw.services.attach_order("fake", "a", "buyer-7", {"order_id": "o-1", "event": "after_sale"})
        second = await gw.services.attach_order("fake", "a", "buyer-7", {"order_id": "o-2", "event": "order_paid"})
        assert first == second
        assert await CustomerIdentity.filter(platform_user_id="buyer-7").count() == 1
        customer = await Customer.get(id=first)
        assert customer.state == "aftersale" and {o["order_id"] for o in customer.orders} == {"o-1", "o-2"}

"""`customer.updated` events: one for each change of a customer's profile, whoever made it (the
agent API, a binding, a merge, an order push), so observers (webhooks) need not know them all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csgw.gateway.models import Customer
from csgw.gateway.views import customer_change_view

if TYPE_CHECKING:
    from csgw.gateway.ports import Events

PROFILE_FIELDS = ("name", "tags", "vip", "exclusive_agent_id", "state", "notes", "orders", "shop_user_id")


def changed_fields(before: Customer | None, after: Customer) -> list[str]:
    """The profile fields that differ (every one for a customer new to us)."""
    return [name for name in PROFILE_FIELDS
            if before is None or getattr(before, name) != getattr(after, name)]


async def holder_of(shop_user_id: str | None, customer_id: int) -> int | None:
    """Another customer bound to `shop_user_id`: a binding to it merges them into `customer_id`."""
    if not shop_user_id:
        return None
    holder = await Customer.get_or_none(shop_user_id=shop_user_id)
    return holder.id if holder is not None and holder.id != customer_id else None


def announce_customer_change(events: Events, before: Customer | None, after: Customer, *,
                             merged_customer_id: int | None = None,
                             changed: list[str] | None = None) -> None:
    """Publish `customer.updated` if anything changed (`changed`: the fields, when known already)."""
    fields = changed if changed is not None else changed_fields(before, after)
    if fields or merged_customer_id is not None:
        events.publish("customer.updated", customer_change_view(after, fields, merged_customer_id))

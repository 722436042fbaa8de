"""Orders on the customer's profile (`Customer.orders`): a platform's order and after-sale pushes,
folded in by the identity they name (a customer not seen yet is created)."""

from __future__ import annotations

from typing import Any

from csgw.gateway.clock import now
from csgw.gateway.storage.customer_plans import (
    customer_for_identity,
    customer_orders,
    set_customer_orders,
)
from csgw.gateway.storage.plans import Plan


def merged_orders(orders: list[dict[str, Any]], update: dict[str, str], channel: str,
                  account: str) -> list[dict[str, Any]]:
    """The order list with `update` (order_id, status, after_sale_id, event) folded into its order's
    entry; a repeated push changes nothing."""
    orders = [dict(o) for o in orders or []]
    entry = next((o for o in orders if o.get("order_id") == update["order_id"]
                  and o.get("channel") == channel), None)
    if entry is None:
        entry = {"order_id": update["order_id"], "channel": channel, "account": account, "events": []}
        orders.append(entry)
    for key in ("status", "after_sale_id"):
        if update.get(key):
            entry[key] = update[key]
    if update.get("event") and update["event"] not in entry["events"]:
        entry["events"] = [*entry["events"], update["event"]]
        entry["updated_at"] = now().isoformat()
    return orders


def attach_order_plan(channel: str, account: str, user_id: str, update: dict[str, str]) -> Plan[int]:
    """Fold the update into the customer's orders (a customer not seen yet is created); their id."""
    customer_id, _ = yield from customer_for_identity(channel, account, user_id)
    orders, state = yield from customer_orders(customer_id)
    if "after_sale" in update.get("event", ""):
        state = "aftersale"
    elif state == "presale":
        state = "ordered"
    yield from set_customer_orders(customer_id, merged_orders(orders, update, channel, account), state)
    return customer_id

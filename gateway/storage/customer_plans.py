"""Customers by identity: the one plan that finds the customer behind (channel, account, user) or
creates both — for inbound messages, order pushes and history imports alike."""

from __future__ import annotations

from typing import Any

from csgw.gateway.clock import now
from csgw.gateway.models import Customer, CustomerIdentity
from csgw.gateway.storage.plans import Insert, Plan, Select, json_value, new_row, update_row


def customer_for_identity(channel: str, account: str, user_id: str, *, name: str = "",
                          profile: dict[str, Any] | None = None) -> Plan[tuple[int, bool]]:
    """The identity's customer, created (with the identity) if new: (customer id, created)."""
    rows = yield Select('SELECT "customer_id" FROM "customer_identity" '
                        'WHERE "channel" = ? AND "account" = ? AND "platform_user_id" = ?',
                        [channel, account, user_id])
    if rows:
        return rows[0][0], False
    at = now()
    columns, row = new_row(Customer, {"name": name}, at)
    [customer_id] = yield Insert("customer", columns, [row])
    columns, row = new_row(CustomerIdentity, {
        "customer_id": customer_id, "channel": channel, "account": account,
        "platform_user_id": user_id, "profile": dict(profile or {})}, at)
    yield Insert("customer_identity", columns, [row])
    return customer_id, True


def customer_orders(customer_id: int) -> Plan[tuple[list[dict[str, Any]], str]]:
    """A customer's orders and state, read inside the write transaction."""
    rows = yield Select('SELECT "orders", "state" FROM "customer" WHERE "id" = ?', [customer_id])
    orders, state = rows[0]
    return list(json_value(orders) or []), state


def set_customer_orders(customer_id: int, orders: list[dict[str, Any]], state: str) -> Plan[None]:
    yield from update_row("customer", customer_id, {"orders": orders, "state": state, "updated_at": now()})

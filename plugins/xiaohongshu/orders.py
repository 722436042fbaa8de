"""Order and after-sale pushes attached to the customer's profile (`Customer.orders`), by identity."""

from __future__ import annotations

from typing import Any

from csgw.gateway.clock import now
from csgw.gateway.models import Customer, CustomerIdentity
from csgw.gateway.storage.writer import GroupCommitWriter
from csgw.plugins.xiaohongshu.adapter import PLUGIN


def merged_orders(orders: list[dict[str, Any]], update: dict[str, str], account: str) -> list[dict[str, Any]]:
    """The order list with `update` folded into its order's entry (a repeated push changes nothing)."""
    orders = [dict(o) for o in orders or []]
    entry = next((o for o in orders if o.get("order_id") == update["order_id"]
                  and o.get("channel") == PLUGIN), None)
    if entry is None:
        entry = {"order_id": update["order_id"], "channel": PLUGIN, "account": account, "events": []}
        orders.append(entry)
    for key in ("status", "after_sale_id"):
        if update.get(key):
            entry[key] = update[key]
    if update.get("event") and update["event"] not in entry["events"]:
        entry["events"] = [*entry["events"], update["event"]]
        entry["updated_at"] = now().isoformat()
    return orders


async def attach_order(writer: GroupCommitWriter, account: str, update: dict[str, str]) -> int:
    """Fold the update into the customer's orders (a customer not seen yet is created); their id."""

    async def job(connection: Any) -> int:
        identity = await CustomerIdentity.filter(
            channel=PLUGIN, account=account, platform_user_id=update["user_id"]
        ).using_db(connection).first()
        if identity is None:
            customer = await Customer.create(using_db=connection)
            await CustomerIdentity.create(using_db=connection, customer_id=customer.id, channel=PLUGIN,
                                          account=account, platform_user_id=update["user_id"])
        else:
            customer = await Customer.get(id=identity.customer_id).using_db(connection)
        values: dict[str, Any] = {"orders": merged_orders(customer.orders, update, account)}
        if "after_sale" in update.get("event", ""):
            values["state"] = "aftersale"
        elif customer.state == "presale":
            values["state"] = "ordered"
        await Customer.filter(id=customer.id).using_db(connection).update(**values)
        return customer.id

    return await writer.run(job)

"""The customer's own orders, for a question about an order: besides the knowledge-base entries,
the facts the model may state (a status, a tracking number). Read from the customer's profile
(orders the shop pushed) and from the shop's `csgw_customer_context` plugins (their `orders`)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from csgw.gateway.models import Customer

if TYPE_CHECKING:
    from csgw.gateway.ports import Gateway

ORDER_WORDS = re.compile(r"订单|訂單|快递|快遞|物流|发货|發貨|到货|到貨|单号|單號|退款|寄出|order|tracking|parcel|refund",
                         re.IGNORECASE)
MAX_ORDERS = 3  # the latest ones
CONTEXT_KEY = "orders"  # where context plugins put them (the orders plugin's default `context_key`)


def asks_about_orders(question: str) -> bool:
    return bool(ORDER_WORDS.search(question))


async def orders_of(services: Gateway, customer_id: int) -> list[str]:
    """The customer's latest orders, one JSON object each (an empty list: none known)."""
    customer = await Customer.get_or_none(id=customer_id)
    found: list[dict[str, Any]] = list(customer.orders or []) if customer is not None else []
    live = (await services.customer_context(customer_id)).context.get(CONTEXT_KEY)
    if isinstance(live, list):
        found += [order for order in live if isinstance(order, dict)]
    unique = {json.dumps(order, ensure_ascii=False, sort_keys=True, default=str): None for order in found}
    return list(unique)[-MAX_ORDERS:]

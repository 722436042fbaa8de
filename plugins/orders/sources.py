"""Where the bot finds a customer's orders: their profile (imported, pushed by a platform, set
through the agent API), what the shop's `csgw_customer_context` plugins return under
`[orders] context_key`, and one order by its number through `csgw_order_lookup`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from csgw.gateway.models import Customer
from csgw.plugins.orders.config import OrdersConfig
from csgw.plugins.orders.records import Order, merged_orders, read_order

if TYPE_CHECKING:
    from csgw.gateway.ports import Gateway

log = structlog.get_logger(__name__)
LOOKUP_WINDOW_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class KnownOrders:
    """What the bot knows of one customer's orders."""

    orders: list[Order]
    bound: bool  # the customer is bound to a shop account
    listed: bool  # a source listed this customer's orders (an empty list means they have none)
    unavailable: bool  # a context plugin failed or was too slow

    def find(self, order_no: str) -> Order | None:
        return next((order for order in self.orders if order.same_number(order_no)), None)

    def about(self, statuses: list[str]) -> list[Order]:
        """The orders in `statuses` when there are any, else all of them."""
        chosen = [order for order in self.orders if order.status in statuses]
        return chosen or self.orders


@dataclass(frozen=True, slots=True)
class Found:
    order: Order | None
    unavailable: bool = False  # a lookup plugin failed or was too slow
    refused: bool = False  # the customer looked up too many numbers


class OrderBook:
    def __init__(self, services: Gateway, config: OrdersConfig) -> None:
        self.services = services
        self.config = config

    async def known(self, customer_id: int) -> KnownOrders:
        customer = await Customer.get_or_none(id=customer_id)
        profile = list(customer.orders or []) if customer is not None else []
        live = await self.services.customer_context(customer_id)
        listed = live.context.get(self.config.context_key)
        if listed is not None and not isinstance(listed, list):
            log.warning("customer context orders are not a list", customer_id=customer_id,
                        key=self.config.context_key)
            listed = None
        orders = merged_orders([profile, listed or []], self.config.fields)
        return KnownOrders(orders, bound=bool(customer and customer.shop_user_id),
                           listed=bool(profile) or listed is not None, unavailable=bool(live.failed))

    @property
    def can_look_up(self) -> bool:
        return bool(self.services.order_lookup_plugins())

    async def look_up(self, customer_id: int, order_no: str) -> Found:
        """The order by its number from the shop's lookup plugins, so many per customer an hour."""
        if self.config.lookups_per_hour:
            grant = await self.services.limits.take(f"orders:lookup:{customer_id}", limit=self.config.lookups_per_hour,
                                                    per_seconds=LOOKUP_WINDOW_SECONDS)
            if not grant.taken:
                log.info("order lookups refused", customer_id=customer_id, retry_in=round(grant.wait))
                return Found(None, refused=True)
        lookup = await self.services.look_up_order(order_no, customer_id)
        return Found(read_order(lookup.order, self.config.fields, order_no), unavailable=lookup.unavailable)

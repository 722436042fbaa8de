"""Live questions to the shop's own plugins: what they know of a customer (`csgw_customer_context`)
and one order by its number (`csgw_order_lookup`). Each implementation runs on its own within
`[customers] context_timeout_seconds`; a failing or slow one costs only its part, and the caller
learns which ones did, so it can tell "not found" from "could not ask"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from csgw.gateway.models import Customer, CustomerIdentity
from csgw.gateway.views import customer_view


@dataclass(frozen=True, slots=True)
class LiveContext:
    """The context plugins' answers merged in plugin order, and the plugins that failed."""

    context: dict[str, Any]
    failed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderLookup:
    """The first order a lookup plugin found (None: none did), and the plugins that failed."""

    order: dict[str, Any] | None
    failed: tuple[str, ...] = ()

    @property
    def unavailable(self) -> bool:
        """Nothing found, and a plugin that might have known failed or answered too late."""
        return self.order is None and bool(self.failed)


async def hook_customer_view(customer_id: int) -> dict[str, Any] | None:
    """The customer as the shop's hooks receive them: profile, orders, `shop_user_id`, identities."""
    customer = await Customer.get_or_none(id=customer_id)
    if customer is None:
        return None
    identities = await CustomerIdentity.filter(customer_id=customer_id).order_by("id")
    view = customer_view(customer, [
        {"channel": i.channel, "account": i.account, "platform_user_id": i.platform_user_id,
         "profile": i.profile} for i in identities])
    view["shop_user_id"] = customer.shop_user_id
    return view

"""Who is a VIP: the profile's flag, a VIP tag, or orders adding up to the configured spend."""

from __future__ import annotations

from typing import Any

from csgw.config.schema import AssignmentSettings


def order_amount(order: Any) -> float:
    if not isinstance(order, dict):
        return 0.0
    for key in ("amount", "total", "price"):
        try:
            return float(order[key])
        except (KeyError, TypeError, ValueError):
            continue
    return 0.0


def is_vip(customer: dict[str, Any], rules: AssignmentSettings) -> bool:
    if customer.get("vip"):
        return True
    if set(customer.get("tags") or []) & set(rules.vip_tags):
        return True
    if rules.vip_min_spend is not None:
        return sum(order_amount(o) for o in customer.get("orders") or []) >= rules.vip_min_spend
    return False

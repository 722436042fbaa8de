"""What a canned reply's variables stand for in one conversation, as its agent sees it."""

from __future__ import annotations

from typing import Any

from csgw.gateway.models import Agent, Conversation, Customer, CustomerIdentity

ORDER_KEYS = ("order_id", "order_no", "id", "no")  # platforms' pushes say order_id; hand-entered orders vary


def _number(order: dict[str, Any]) -> str:
    return next((str(order[key]).strip() for key in ORDER_KEYS if str(order.get(key) or "").strip()), "")


def order_no(orders: list[Any], channel: str) -> str | None:
    """The customer's most recent order: the last on their profile, one from this channel first."""
    numbered = [order for order in orders if isinstance(order, dict) and _number(order)]
    here = [order for order in numbered if order.get("channel") == channel]
    latest = (here or numbered)[-1:]
    return _number(latest[0]) if latest else None


async def conversation_values(conversation: Conversation, agent: Agent) -> dict[str, str | None]:
    customer = await Customer.get_or_none(id=conversation.customer_id)
    name = customer.name.strip() if customer and customer.name else ""
    if not name:  # a merged or imported customer may have no name; the platform's nickname will do
        identity = await CustomerIdentity.filter(customer_id=conversation.customer_id, channel=conversation.channel,
                                                 account=conversation.account).order_by("id").first()
        name = str((identity.profile or {}).get("nickname") or "").strip() if identity else ""
    return {
        "customer_name": name or None,
        "agent_name": agent.display_name or agent.name,
        "order_no": order_no(customer.orders or [], conversation.channel) if customer else None,
    }

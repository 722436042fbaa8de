"""Which gateway events become which webhook events, and the small payload each carries.

The gateway publishes `message.created`, `conversation.updated` (with a `change`),
`customer.updated` and `satisfaction.rated` on its event bus, the incidents plugin
`incident.opened`, `incident.updated` and `incident.closed`; this maps them to the webhook
events. Payloads hold ids and what a CRM needs to act, not whole records. The customer of a
message and the assigned agent's name are not in the gateway's event: the store adds them when
the delivery is recorded (`Occurrence.customer_of`, `.agent`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from csgw.gateway.clock import now

# conversation.updated changes that give a conversation to an agent; None: a hand-over the
# pipeline decided (it publishes no change name)
ASSIGNING = {None: "handover", "assigned": "assigned", "taken": "taken", "transferred": "transferred"}
INCIDENT_EVENTS = ("incident.opened", "incident.updated", "incident.closed")


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One webhook event, before it is recorded."""

    event: str
    ordering_key: str
    data: dict[str, Any]
    occurred_at: str
    customer_of: int | None = None  # the conversation whose customer id `data` still needs
    agent: int | None = None  # the agent whose name `data` still needs


def occurrence(event: dict[str, Any]) -> Occurrence | None:
    """The webhook event a gateway event is, if any."""
    kind, data = event.get("type"), event.get("data") or {}
    if kind == "message.created":
        return _message(data)
    if kind == "conversation.updated":
        return _conversation(data)
    if kind == "customer.updated":
        return _occurred("customer.updated", f"customer:{data['customer_id']}", dict(data))
    if kind == "satisfaction.rated":
        return _occurred("satisfaction.rated", f"conversation:{data['conversation_id']}", dict(data))
    if kind in INCIDENT_EVENTS:  # the incidents plugin's incident view, as it is
        return _occurred(kind, f"incident:{data['id']}", dict(data))
    return None


def _occurred(event: str, key: str, data: dict[str, Any], **lookups: int | None) -> Occurrence:
    return Occurrence(event, key, data, now().isoformat(), **lookups)


def _message(view: dict[str, Any]) -> Occurrence | None:
    if view.get("direction") not in ("in", "out"):  # an internal note stays inside the desk
        return None
    conversation_id = view["conversation_id"]
    data = {"message_id": view["id"], "conversation_id": conversation_id, "customer_id": None,
            "channel": view["channel"], "account": view["account"], "direction": view["direction"],
            "sender": view["sender"], "agent_id": view.get("agent_id"), "kind": view.get("kind", "text"),
            "text": view["text"], "created_at": view.get("created_at")}
    return _occurred("message.created", f"conversation:{conversation_id}", data, customer_of=conversation_id)


def _conversation(view: dict[str, Any]) -> Occurrence | None:
    change = view.get("change")
    data = {"conversation_id": view["id"], "customer_id": view["customer_id"], "channel": view["channel"],
            "account": view["account"], "group": view.get("group")}
    key = f"conversation:{view['id']}"
    if change == "closed":
        return _occurred("conversation.closed", key, {
            **data, "agent_id": view.get("agent_id"), "opened_at": view.get("opened_at"),
            "first_response_at": view.get("first_response_at"), "closed_at": view.get("closed_at")})
    if view.get("state") == "assigned" and view.get("agent_id") is not None and change in ASSIGNING:
        agent = {"id": view["agent_id"], "name": None, "display_name": None}
        return _occurred("conversation.assigned", key, {
            **data, "agent": agent, "reason": ASSIGNING[change], "assigned_at": view.get("assigned_at")},
            agent=view["agent_id"])
    return None


def completed(occurred: Occurrence, customers: dict[int, int], agents: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """The payload with what the store knows added: the message's customer, the agent's names."""
    data = dict(occurred.data)
    if occurred.customer_of is not None:
        data["customer_id"] = customers.get(occurred.customer_of)
    if occurred.agent is not None and occurred.agent in agents:
        name, display_name = agents[occurred.agent]
        data["agent"] = {"id": occurred.agent, "name": name, "display_name": display_name or name}
    return data

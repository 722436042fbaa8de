"""JSON shapes of stored records, shared by the agent API, the event bus and exports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from csgw.gateway.clock import now
from csgw.gateway.messages import OutboundMessage
from csgw.gateway.models import Agent, Customer
from csgw.gateway.storage.records import ConversationState, StoredMessage


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def message_view(message: StoredMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "channel": message.channel,
        "account": message.account,
        "direction": message.direction,
        "sender": message.sender,
        "agent_id": message.agent_id,
        "kind": message.kind,
        "text": message.text,
        "payload": message.payload or {},
        "external_id": message.external_id,
        "delivery": message.delivery,
        "created_at": iso(message.created_at),
        "platform_ts": iso(message.platform_ts),
    }


def outbound_view(message: OutboundMessage) -> dict[str, Any]:
    """The view of a reply just stored, without reading it back."""
    return {
        "id": message.message_id, "conversation_id": message.conversation_id, "channel": message.channel,
        "account": message.account, "direction": "out", "sender": message.sender, "agent_id": None,
        "kind": "text", "text": message.text, "payload": message.payload, "external_id": None,
        "delivery": "pending", "created_at": iso(now()), "platform_ts": None,
    }


def conversation_view(conversation: ConversationState, last_message: StoredMessage | None = None,
                      customer_name: str | None = None) -> dict[str, Any]:
    return {
        "customer_name": customer_name,
        "id": conversation.id,
        "state": conversation.state,
        "priority": conversation.priority,
        "group": conversation.group,
        "agent_id": conversation.agent_id,
        "customer_id": conversation.customer_id,
        "channel": conversation.channel,
        "account": conversation.account,
        "flags": conversation.flags or {},
        "satisfaction": conversation.satisfaction,
        "satisfaction_comment": conversation.satisfaction_comment,
        "rated_at": iso(conversation.rated_at),
        "opened_at": iso(conversation.opened_at),
        "waiting_since": iso(conversation.waiting_since),
        "assigned_at": iso(conversation.assigned_at),
        "first_response_at": iso(conversation.first_response_at),
        "closed_at": iso(conversation.closed_at),
        "last_message_at": iso(conversation.last_message_at),
        "last_message": message_view(last_message) if last_message else None,
    }


def agent_view(agent: Agent, load: int = 0) -> dict[str, Any]:
    return {
        "id": agent.id,
        "name": agent.name,
        "display_name": agent.display_name or agent.name,
        "skills": agent.skills or [],
        "status": agent.status,
        "role": agent.role,
        "max_concurrent": agent.max_concurrent,
        "load": load,
        "last_seen_at": iso(agent.last_seen_at),
    }


def customer_view(customer: Customer, identities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "tags": customer.tags or [],
        "vip": customer.vip,
        "exclusive_agent_id": customer.exclusive_agent_id,
        "state": customer.state,
        "notes": customer.notes,
        "orders": customer.orders or [],
        "identities": identities or [],
        "created_at": iso(customer.created_at),
    }


def rating_view(conversation: ConversationState, score: int, message_id: int | None = None,
                comment: str | None = None) -> dict[str, Any]:
    """The `satisfaction.rated` event: a customer rated a conversation (by message or survey
    frame); published again, with the same score, when their comment comes."""
    return {
        "conversation_id": conversation.id,
        "customer_id": conversation.customer_id,
        "channel": conversation.channel,
        "account": conversation.account,
        "agent_id": conversation.agent_id,
        "group": conversation.group,
        "score": score,
        "comment": comment,
        "message_id": message_id,
    }


def customer_change_view(customer: Customer, changed: Iterable[str],
                         merged_customer_id: int | None = None) -> dict[str, Any]:
    """The `customer.updated` event: which profile fields changed, with the small ones' values
    (orders and notes are named only; read them through the API)."""
    return {
        "customer_id": customer.id,
        "shop_user_id": customer.shop_user_id,
        "changed": sorted(set(changed)),
        "merged_customer_id": merged_customer_id,
        "name": customer.name,
        "vip": customer.vip,
        "state": customer.state,
        "tags": customer.tags or [],
    }

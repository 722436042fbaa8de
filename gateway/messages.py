"""The messages that cross the channel seam and the pipeline: a customer's message in, a reply out,
what `accept` answers, and a reply before it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A customer's message, normalised by its channel."""

    channel: str
    account: str
    user_id: str  # the platform's id for the customer (OpenID, e-mail address, visitor id)
    text: str
    external_id: str | None = None  # the platform's message id; dedupe key per account
    kind: str = "text"  # text, image, voice, video, location, link, file, event
    payload: dict[str, Any] = field(default_factory=dict)
    platform_ts: datetime | None = None
    profile: dict[str, Any] = field(default_factory=dict)  # nickname, avatar, e-mail name
    thread_key: str | None = None  # a channel's own conversation key (e-mail thread)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A stored message on its way to a customer; `message_id` is the idempotency key."""

    message_id: int
    conversation_id: int
    channel: str
    account: str
    user_id: str
    text: str
    sender: str  # bot, agent, system
    payload: dict[str, Any] = field(default_factory=dict)
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class Accepted:
    """What `Gateway.accept` answers once an inbound message is durable."""

    message_id: int
    conversation_id: int
    duplicate: bool
    inline_replies: list[OutboundMessage] = field(default_factory=list)


@dataclass(slots=True)
class DraftReply:
    """A message to a customer before it is stored (the store gives it an id and an outbox row)."""

    text: str
    sender: str = "bot"
    payload: dict[str, Any] = field(default_factory=dict)
    agent_id: int | None = None

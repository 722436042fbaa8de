"""The widget's leave-a-message form, offered while the desk is closed (a hand-over's note that
carries `desk_closed`). What the visitor leaves is the customer's message in their conversation,
so agents see it and it waits for the next shift with the conversation; the name and the phone
number or WeChat ID go onto the customer's profile: the name when the profile has none, both on
the visitor's identity (`profile.name`, `profile.contact`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from csgw.gateway.customer_events import announce_customer_change
from csgw.gateway.models import Conversation, Customer, Message
from csgw.gateway.off_hours import DESK_CLOSED
from csgw.gateway.reply import Reply, ReplyContext
from csgw.gateway.storage.plans import Plan, Select, update, update_row
from csgw.plugins.webchat.frames import LeftMessage

if TYPE_CHECKING:
    from csgw.gateway.ports import Gateway

log = structlog.get_logger(__name__)

LEFT_MESSAGE = "left_message"  # the stored message's payload: {"name", "contact"}


def left_message_payload(form: LeftMessage) -> dict[str, Any]:
    return {LEFT_MESSAGE: {"name": form.name, "contact": form.contact}}


def offer_again(history: Sequence[Message], waiting: Conversation | None, at: datetime) -> dict[str, Any] | None:
    """The `desk_closed` frame a reloaded widget shows again after replaying `history`: for the
    last after-hours note of `waiting` (the visitor's open conversation, still queued), when no
    message was left and no agent wrote since, and the desk it named is still closed at `at`."""
    if waiting is None or waiting.state != "queued":
        return None
    for message in reversed(history):
        if message.conversation_id != waiting.id:
            continue
        payload = message.payload or {}
        if LEFT_MESSAGE in payload or message.sender == "agent":
            return None
        closed = payload.get(DESK_CLOSED)
        if isinstance(closed, dict):
            opens_at = closed.get("opens_at")
            if opens_at is not None and datetime.fromisoformat(opens_at) <= at:
                return None
            return {"type": "desk_closed", "opens_at": opens_at}
    return None


class LeftMessageHandover:
    """A message left in a conversation the bot has (the form outlived the hand-over that showed
    it) goes to a person; the bot does not answer it."""

    name = "webchat_left_message"
    priority = 1000

    async def reply(self, context: ReplyContext) -> Reply | None:
        if context.channel != "webchat" or LEFT_MESSAGE not in context.payload:
            return None
        return Reply(None, handover=True, source=self.name)


def left_contact(message: dict[str, Any]) -> dict[str, Any] | None:
    """What a left message says about its sender (None: the message is not one)."""
    left = (message.get("payload") or {}).get(LEFT_MESSAGE)
    return left if message.get("channel") == "webchat" and isinstance(left, dict) else None


async def remember_contact(services: Gateway, message: dict[str, Any], left: dict[str, Any]) -> None:
    """Keep what a left message says about its sender on the customer's profile."""
    conversation = await Conversation.get_or_none(id=message["conversation_id"])
    if conversation is None:
        return
    named = await services.writer.run_plan(contact_plan, conversation.customer_id, conversation.account,
                                           str(left.get("name") or ""), str(left.get("contact") or ""))
    log.info("left message's contact kept", conversation_id=conversation.id, customer_id=conversation.customer_id,
             named=named)
    if named:
        customer = await Customer.get(id=conversation.customer_id)
        announce_customer_change(services.events, None, customer, changed=["name"])


def contact_plan(customer_id: int, account: str, name: str, contact: str) -> Plan[bool]:
    """Name and contact onto the customer's webchat identities of `account`, and the name onto a
    customer without one; whether the customer's name was set."""
    rows = yield Select('SELECT "id", "profile" FROM "customer_identity" WHERE "customer_id" = ? '
                        'AND "channel" = ? AND "account" = ?', [customer_id, "webchat", account])
    for ident, stored in rows:
        profile = (json.loads(stored) if isinstance(stored, str) else stored) or {}
        yield from update_row("customer_identity", ident,
                              {"profile": {**profile, "contact": contact, **({"name": name} if name else {})}})
    if not name:
        return False
    named = yield Select('SELECT "id" FROM "customer" WHERE "id" = ? AND "name" = ?', [customer_id, ""])
    if named:
        yield update("customer", {"name": name}, '"id" = ?', [customer_id])
    return bool(named)

"""The inactivity close: a conversation silent since a cutoff is closed only while it waits on the
customer (the bot or the agent had the last word); never one that waits on us. With business
hours, a conversation with an agent counts only open time as silence: one the agent answered
just before closing is not closed overnight."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from csgw.gateway.conversations import ConversationError
from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.models import Conversation, Message
from csgw.gateway.ports import ConversationOps

log = structlog.get_logger(__name__)


async def waits_on_customer(conversation: Conversation) -> bool:
    """Whether the next word is the customer's. With the bot: it has dealt with every message
    (answered, or left "好的" without a word). With an agent: the agent wrote after the customer.
    A queued conversation waits on us."""
    if conversation.state == "bot":
        return not await Message.filter(conversation_id=conversation.id, direction="in", processed=False).exists()
    if conversation.state != "assigned":
        return False
    last = await Message.filter(conversation_id=conversation.id, sender__in=("customer", "agent"),
                                direction__in=("in", "out")).order_by("-id").first()
    return last is not None and last.sender == "agent"


def silent_long_enough(conversation: Conversation, at: datetime, seconds: float, hours: DeskHours | None) -> bool:
    """The bot never closes its shop; an agent's conversation is silent only while open."""
    schedule = hours.schedule_for(conversation.group, conversation.channel, conversation.account) if hours else None
    if conversation.state != "assigned" or schedule is None or conversation.last_message_at is None:
        return True
    return schedule.business_seconds_between(conversation.last_message_at, at) >= seconds


async def close_idle(conversations: ConversationOps, at: datetime, seconds: float, hours: DeskHours | None = None) -> int:
    """Close the conversations silent for `seconds` at `at` that wait on the customer; how many."""
    closed = 0
    silent_since = at - timedelta(seconds=seconds)
    for conversation in await Conversation.filter(state__in=("bot", "assigned"), last_message_at__lt=silent_since):
        if not silent_long_enough(conversation, at, seconds, hours) or not await waits_on_customer(conversation):
            continue
        log.info("closing idle conversation", conversation_id=conversation.id, channel=conversation.channel,
                 account=conversation.account, state=conversation.state)
        try:
            await conversations.close(conversation)
        except ConversationError:  # closed meanwhile by an agent
            continue
        closed += 1
    return closed

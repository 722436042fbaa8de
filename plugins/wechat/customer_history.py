"""What the database knows about a WeChat customer that a send depends on: their latest inbound
message, which says whether the 48-hour reply window is open and which kf account they wrote to.

Derived from stored messages rather than kept in memory, so a restart forgets nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from csgw.gateway.channel import SendError
from csgw.gateway.models import Conversation, CustomerIdentity, Message

REPLY_WINDOW = timedelta(hours=48)


async def last_inbound(channel: str, account: str, user_id: str) -> Message | None:
    """The customer's latest inbound message or event on this account, in any conversation."""
    identity = await CustomerIdentity.get_or_none(channel=channel, account=account, platform_user_id=user_id)
    if identity is None:
        return None
    conversations = await Conversation.filter(
        customer_id=identity.customer_id, channel=channel, account=account
    ).values_list("id", flat=True)
    if not conversations:
        return None
    return await Message.filter(conversation_id__in=list(conversations), direction="in").order_by("-id").first()


def outside_window(last: Message | None, at: datetime) -> bool:
    """Known to be outside the window: the latest inbound is a message (not an event) over 48 h old.

    Events open shorter windows (or none) that only the platform can judge, and with no history
    at all there is nothing to judge by: in both cases the send is attempted and the platform
    answers 45015 if it must."""
    if last is None or last.kind == "event":
        return False
    return at - (last.platform_ts or last.created_at) > REPLY_WINDOW


def window_closed() -> SendError:
    return SendError("outside the 48-hour window: the customer has to write first "
                     "(not attempted: their last message is over 48 hours old)",
                     retryable=False, code="45015")

"""When a customer last wrote to a channel account, read from the stored messages: what a channel's
reply window is judged by. Each channel keeps its own rule (how long, which kinds count, what error).

Read from the database rather than remembered in the process, so a restart forgets nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.expressions import F, Subquery
from tortoise.functions import Coalesce

from csgw.gateway.models import Conversation, CustomerIdentity, Message


async def latest_inbound(channel: str, account: str, user_id: str) -> Message | None:
    """The customer's latest inbound message or event on this account, in any conversation.

    Latest by when they wrote (`written_at`), not by id: a pull after downtime stores older
    messages after the newer pushes that arrived first."""
    identity = await CustomerIdentity.get_or_none(channel=channel, account=account, platform_user_id=user_id)
    if identity is None:
        return None
    theirs = Conversation.filter(customer_id=identity.customer_id, channel=channel, account=account).values("id")
    return await (Message.filter(conversation_id__in=Subquery(theirs), direction="in")
                  .annotate(written=Coalesce(F("platform_ts"), F("created_at")))
                  .order_by("-written", "-id").first())


def written_at(message: Message) -> datetime:
    """When the customer wrote it: the platform's time where known, else when it was received."""
    return message.platform_ts or message.created_at


def hours_passed(last: datetime, at: datetime, hours: float) -> bool:
    """`at` is more than `hours` after `last`."""
    return at - last > timedelta(hours=hours)

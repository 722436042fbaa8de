"""The reply window, judged from the database: when the customer last wrote to this account.

Read from stored messages rather than remembered in the process, so a restart keeps it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.expressions import Subquery

from csgw.gateway.channel import SendError
from csgw.gateway.clock import now
from csgw.gateway.models import Conversation, CustomerIdentity, Message
from csgw.plugins.xiaohongshu.adapter import PLUGIN


async def last_written_at(account: str, user_id: str) -> datetime | None:
    """The platform time (else the receipt time) of the customer's latest inbound message here."""
    identity = await CustomerIdentity.get_or_none(channel=PLUGIN, account=account, platform_user_id=user_id)
    if identity is None:
        return None
    their_conversations = Conversation.filter(customer_id=identity.customer_id, channel=PLUGIN,
                                              account=account).values("id")
    inbound = Message.filter(channel=PLUGIN, account=account, direction="in",
                             conversation_id__in=Subquery(their_conversations))
    # by platform time, not by id: a pull after downtime stores older messages after newer pushes
    timed = await inbound.filter(platform_ts__isnull=False).order_by("-platform_ts").first()
    untimed = await inbound.filter(platform_ts__isnull=True).order_by("-id").first()
    times = [m.platform_ts for m in (timed,) if m is not None and m.platform_ts is not None] + [
        m.created_at for m in (untimed,) if m is not None]
    return max(times, default=None)

async def check_reply_window(account: str, user_id: str, hours: float) -> None:
    """Raise a final SendError when the customer last wrote more than `hours` ago (0: no window).

    A customer with no stored message is let through: only the platform can judge them."""
    if not hours:
        return
    last = await last_written_at(account, user_id)
    if last is not None and now() - last > timedelta(hours=hours):
        raise SendError(f"outside the {hours:g}-hour reply window: the customer has to write first "
                        f"(not attempted: their last message is from {last.isoformat(timespec='minutes')})",
                        retryable=False, code="reply_window")

"""The reply window: when the customer last wrote to this account, read from the stored messages
(`csgw.gateway.customer_history`), so a restart keeps it; its length is the channel's setting.
"""

from __future__ import annotations

from csgw.gateway.channel import SendError
from csgw.gateway.clock import now
from csgw.gateway.customer_history import hours_passed, latest_inbound, written_at
from csgw.plugins.xiaohongshu.adapter import PLUGIN


async def check_reply_window(account: str, user_id: str, hours: float) -> None:
    """Raise a final SendError when the customer last wrote more than `hours` ago (0: no window).

    A customer with no stored message is let through: only the platform can judge them."""
    if not hours:
        return
    last = await latest_inbound(PLUGIN, account, user_id)
    if last is not None and hours_passed(written_at(last), now(), hours):
        raise SendError(f"outside the {hours:g}-hour reply window: the customer has to write first "
                        f"(not attempted: their last message is from "
                        f"{written_at(last).isoformat(timespec='minutes')})",
                        retryable=False, code="reply_window")

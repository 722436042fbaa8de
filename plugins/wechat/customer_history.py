"""WeChat's 48-hour reply window, judged from the customer's latest inbound message on the account
(`csgw.gateway.customer_history.latest_inbound`, which the kf channel also reads for the kf account
the customer wrote to).
"""

from __future__ import annotations

from datetime import datetime

from csgw.gateway.channel import SendError
from csgw.gateway.customer_history import hours_passed, written_at
from csgw.gateway.models import Message

REPLY_WINDOW_HOURS = 48


def outside_window(last: Message | None, at: datetime) -> bool:
    """Known to be outside the window: the latest inbound is a message (not an event) over 48 h old.

    Events open shorter windows (or none) that only the platform can judge, and with no history
    at all there is nothing to judge by: in both cases the send is attempted and the platform
    answers 45015 if it must."""
    if last is None or last.kind == "event":
        return False
    return hours_passed(written_at(last), at, REPLY_WINDOW_HOURS)


def window_closed() -> SendError:
    return SendError("outside the 48-hour window: the customer has to write first "
                     "(not attempted: their last message is over 48 hours old)",
                     retryable=False, code="45015")

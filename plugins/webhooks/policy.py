"""What an attempt's outcome means for its delivery: sent, try again later, or failed for good.

2xx is sent. Network errors, timeouts, 408, 429 and 5xx are tried again with capped exponential
back-off and jitter, after `Retry-After` when the receiver gives one; any other status (a 3xx,
which is not followed, or a 4xx) fails at once: sending the same body again would not help. A
delivery gives up after the endpoint's `max_attempts`, or when its next try would come after
`max_age_seconds` from when it was recorded.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from csgw.gateway.outbox import retry_delay

from .config import Endpoint

RETRIED_STATUSES = (408, 429)


@dataclass(frozen=True, slots=True)
class Verdict:
    state: str  # sent, pending (tried again after `delay`), failed
    delay: float | None = None
    error: str | None = None


def judge(endpoint: Endpoint, *, status: int | None, error: str | None, retry_after: str | None,
          attempts: int, age_seconds: float, at: datetime,
          rng: Callable[[], float] = random.random) -> Verdict:
    """`attempts` counts this one; `age_seconds` is how long ago the delivery was recorded."""
    if status is not None and 200 <= status < 300:
        return Verdict("sent")
    reason = error or f"HTTP {status}"  # the sender's error names the status and the answer's start
    if status is not None and status < 500 and status not in RETRIED_STATUSES:
        why = "a redirect, which is not followed" if 300 <= status < 400 else "refused"
        return Verdict("failed", error=f"{reason} ({why}; not retried)")
    if attempts >= endpoint.max_attempts:
        return Verdict("failed", error=f"{reason}; gave up after {attempts} attempts")
    delay = retry_after_seconds(retry_after, at)
    if delay is None:
        delay = retry_delay(attempts, rng, base=endpoint.retry_base_seconds, cap=endpoint.retry_max_seconds)
    if age_seconds + delay > endpoint.max_age_seconds:
        return Verdict("failed", error=f"{reason}; gave up, the next try would be past max_age_seconds "
                                       f"({endpoint.max_age_seconds:g})")
    return Verdict("pending", delay=delay, error=reason)


def retry_after_seconds(value: str | None, at: datetime) -> float | None:
    """`Retry-After` as seconds from `at`: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - at).total_seconds())

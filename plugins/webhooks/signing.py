"""The headers of a delivery and its signature: HMAC-SHA256 over "<timestamp>.<body>".

A receiver recomputes the signature with the shared secret over the raw body it received and the
`X-Csgw-Timestamp` header, compares in constant time, and refuses old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac

from csgw import __version__

SIGNATURE_PREFIX = "sha256="
USER_AGENT = f"csgw-webhooks/{__version__}"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def delivery_headers(secret: str, *, event: str, delivery_id: str, timestamp: int, body: bytes,
                     attempt: int) -> dict[str, str]:
    stamp = str(timestamp)
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Csgw-Event": event,
        "X-Csgw-Delivery": delivery_id,
        "X-Csgw-Timestamp": stamp,
        "X-Csgw-Attempt": str(attempt),
        "X-Csgw-Signature": signature(secret, stamp, body),
    }


def verify(secret: str, timestamp: str, body: bytes, signed: str, *, at: float, tolerance: float = 300) -> bool:
    """What a receiver checks: the signature matches and the timestamp is within `tolerance`
    seconds of `at` (its own clock, Unix seconds)."""
    if not timestamp.isdigit() or abs(at - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), signed)

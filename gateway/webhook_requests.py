"""Checks every platform push gets before its body is trusted: size, freshness of the timestamp,
nonce replay (WeChat, WeCom and Xiaohongshu sign pushes the same way)."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from csgw.gateway.ports import Limits

MAX_BODY_BYTES = 64 * 1024  # pushes are a few hundred bytes; nothing legitimate is near this
MAX_CLOCK_SKEW = 300  # WeChat retries a delivery within ~15 s with the same query; older is a replay


class PushRefused(ValueError):
    """A push body csgw will not parse; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def read_body(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refusing oversize ones without reading them whole."""
    if request.content_length is not None and request.content_length > limit:
        raise PushRefused(f"body larger than {limit} bytes", status=413)
    chunks: list[bytes] = []
    size = 0
    while size <= limit:  # read() answers what has arrived so far: a body split in packets needs more
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise PushRefused(f"body larger than {limit} bytes", status=413)
    return b"".join(chunks)


def timestamp_is_fresh(timestamp: str, *, skew: float = MAX_CLOCK_SKEW, now: float | None = None) -> bool:
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        return False
    return abs((now if now is not None else time.time()) - value) <= skew


class NonceGuard:
    """The URL signature covers token, timestamp and nonce, not the body: a captured push URL
    could be replayed with any body while its timestamp is fresh. Each (timestamp, nonce) is
    remembered for that window with its body's digest, for every instance (`Limits.remember`):
    WeChat's own retries carry the same body and pass, another body under a seen nonce is
    refused, whichever instance the balancer sends it to."""

    def __init__(self, limits: Limits, scope: str, window: float = MAX_CLOCK_SKEW) -> None:
        self.limits = limits
        self.scope = scope
        self.window = window

    async def admits(self, timestamp: str, nonce: str, body: bytes) -> bool:
        digest = hashlib.sha256(body).hexdigest()
        kept = await self.limits.remember(f"nonce:{self.scope}:{timestamp}:{nonce}", digest, ttl=2 * self.window)
        return kept == digest

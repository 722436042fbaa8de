"""Checks every WeChat push gets before its body is trusted: size, freshness of the timestamp."""

from __future__ import annotations

import time

from aiohttp import web

from csgw.plugins.wechat.xml import MAX_BODY_BYTES, PushRefused

MAX_CLOCK_SKEW = 300  # WeChat retries a delivery within ~15 s with the same query; older is a replay


async def read_body(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refusing oversize ones without reading them whole."""
    if request.content_length is not None and request.content_length > limit:
        raise PushRefused(f"body larger than {limit} bytes", status=413)
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        raise PushRefused(f"body larger than {limit} bytes", status=413)
    return body


def timestamp_is_fresh(timestamp: str, *, skew: float = MAX_CLOCK_SKEW, now: float | None = None) -> bool:
    try:
        value = int(timestamp)
    except (TypeError, ValueError):
        return False
    return abs((now if now is not None else time.time()) - value) <= skew

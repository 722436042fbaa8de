"""Per-IP rate limits: webhook requests, widget connections and widget messages, as token buckets.

Behind a TLS proxy (`[server] behind_tls_proxy`) the client is the address the proxy appended
to X-Forwarded-For; otherwise the socket's peer, since anyone can write that header. Loopback
peers are not limited: a local proxy that does not forward addresses would otherwise throttle
every visitor at once.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import structlog
from aiohttp import web

log = structlog.get_logger(__name__)

MAX_TRACKED = 100_000  # buckets kept; the least recently seen IP is forgotten first


@dataclass
class Bucket:
    tokens: float
    at: float


@dataclass
class IpLimits:
    # Defaults as `[server.rate_limits]` (config/schema.py RateLimitSettings).
    webhook_per_minute: float = 6000
    widget_connections_per_minute: float = 60
    widget_messages_per_minute: float = 120
    trust_forwarded: bool = False
    exempt_loopback: bool = True
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[tuple[str, str], Bucket] = field(default_factory=OrderedDict)

    def allow(self, kind: str, ip: str) -> bool:
        """Take one token from the (kind, ip) bucket; False when it is empty."""
        if self.exempt_loopback and is_loopback(ip):
            return True
        rate = getattr(self, f"{kind}_per_minute")
        now = self.clock()
        key = (kind, ip)
        bucket = self._buckets.pop(key, None) or Bucket(rate, now)
        bucket.tokens = min(rate, bucket.tokens + (now - bucket.at) * rate / 60)
        bucket.at = now
        self._buckets[key] = bucket
        if len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def client_ip(self, request: web.Request) -> str:
        if self.trust_forwarded:
            forwarded = request.headers.get("X-Forwarded-For", "").rsplit(",", 1)[-1].strip()
            if forwarded:
                return forwarded
        return request.remote or "unknown"

    def allow_request(self, kind: str, request: web.Request) -> bool:
        ip = self.client_ip(request)
        if self.allow(kind, ip):
            return True
        log.info("rate limited", kind=kind, ip=ip, path=request.path)
        return False


@lru_cache(maxsize=4096)
def is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


IP_LIMITS = web.AppKey("ip_limits", IpLimits)


def _kind(path: str) -> str | None:
    if path.startswith("/webhooks/"):
        return "webhook"
    if path == "/widget/ws":
        return "widget_connections"
    return None


@web.middleware
async def ip_rate_limit(request: web.Request, handler: Any) -> web.StreamResponse:
    kind = _kind(request.path)
    if kind is not None and not request.app[IP_LIMITS].allow_request(kind, request):
        return web.Response(status=429, text="too many requests", headers={"Retry-After": "60"})
    return await handler(request)

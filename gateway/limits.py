"""Per-IP rate limits: webhook requests, widget connections and messages, console sign-ins, as
token buckets.

X-Forwarded-For is read only when the socket's peer is one of `[server] trusted_proxies`
(anyone else can write that header); then the client is the right-most address in it that is
not itself a trusted proxy. Loopback peers are not limited: a local proxy that does not forward
addresses would otherwise throttle every visitor at once. IPv6 clients share a bucket per /64,
the block one subscriber gets, so rotating through it does not escape a limit.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from csgw.gateway.ports import Limits
from csgw.gateway.shared_limits import MemoryLimits

log = structlog.get_logger(__name__)

MAX_TRACKED = 100_000  # buckets kept in memory; the least recently seen IP is forgotten first
UNKNOWN = "unknown"  # a forwarded hop that is no address: one shared bucket, never exempt

Network = IPv4Network | IPv6Network
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def proxy_networks(entries: list[str], behind_tls_proxy: bool) -> tuple[Network, ...]:
    """`[server] trusted_proxies` as networks; `behind_tls_proxy` alone trusts loopback only
    (a proxy on the same machine), which is what it meant before the list existed."""
    if entries:
        return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)
    return LOOPBACK if behind_tls_proxy else ()


def parse_address(text: str) -> IPv4Address | IPv6Address | None:
    """An address as a peer or proxy writes it (`[v6]:port` and `v4:port` too); None if it is none."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        return IPv6Address(int(address))  # no zone id: "%anything" would be a fresh bucket
    return address


@dataclass
class IpLimits:
    # Defaults as `[server.rate_limits]` (config/schema.py RateLimitSettings).
    webhook_per_minute: float = 6000
    widget_connections_per_minute: float = 60
    widget_messages_per_minute: float = 120
    login_per_minute: float = 10
    trusted_proxies: tuple[Network, ...] = ()
    exempt_loopback: bool = True
    clock: Callable[[], float] = time.monotonic
    # With instances sharing a store, what every instance let through counts too (`shared_limits.py`).
    cluster: Limits | None = None
    local: MemoryLimits = field(init=False)

    def __post_init__(self) -> None:
        self.local = MemoryLimits(capacity=MAX_TRACKED, clock=self.clock)

    def allow(self, kind: str, ip: str) -> bool:
        """Take one unit from this instance's (kind, ip) bucket; False when it is empty."""
        if self.exempt_loopback and is_loopback(ip):
            return True
        return self.local.take_now(f"{kind}:{bucket_of(ip)}", limit=self._rate(kind), per_seconds=60).taken

    async def admits(self, kind: str, ip: str) -> bool:
        """This instance's bucket first, so a flood is turned away without a round trip; then
        the cluster's, where all instances' traffic from the address counts."""
        if not self.allow(kind, ip):
            return False
        if self.cluster is None or (self.exempt_loopback and is_loopback(ip)):
            return True
        grant = await self.cluster.take(f"ip:{kind}:{bucket_of(ip)}", limit=self._rate(kind), per_seconds=60)
        return grant.taken

    def _rate(self, kind: str) -> float:
        return float(getattr(self, f"{kind}_per_minute"))

    def trusts(self, address: IPv4Address | IPv6Address) -> bool:
        return any(address in network for network in self.trusted_proxies)

    def client_ip(self, request: web.Request) -> str:
        """The socket's peer, or, from a trusted proxy, the nearest untrusted hop it forwarded."""
        peer = parse_address(request.remote or "")
        if peer is None:
            return request.remote or UNKNOWN
        if not self.trusted_proxies or not self.trusts(peer):
            return str(peer)
        client = peer
        hops = [hop for header in request.headers.getall("X-Forwarded-For", ()) for hop in header.split(",")]
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:  # what a trusted proxy passed on is no address: not believable
                return UNKNOWN
            client = address
            if not self.trusts(address):
                break
        return str(client)

    async def admits_request(self, kind: str, request: web.Request) -> bool:
        ip = self.client_ip(request)
        if await self.admits(kind, ip):
            return True
        log.info("rate limited", kind=kind, ip=ip, path=request.path)
        return False


@lru_cache(maxsize=4096)
def bucket_of(ip: str) -> str:
    """The bucket an address counts against: itself, or for IPv6 its /64."""
    address = parse_address(ip)
    if isinstance(address, IPv6Address):
        return str(IPv6Network((int(address) >> 64 << 64, 64)))
    return ip


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
async def ip_rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    kind = _kind(request.path)
    if kind is not None and not await request.app[IP_LIMITS].admits_request(kind, request):
        return web.Response(status=429, text="too many requests", headers={"Retry-After": "60"})
    return await handler(request)

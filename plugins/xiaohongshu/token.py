"""The partner API's access token: fetched once for all concurrent callers, renewed before it
expires; with instances sharing a store, fetched by one instance for all (`shared_token.py`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

from csgw.gateway.shared_token import SharedToken

log = structlog.get_logger(__name__)

TokenFetch = Callable[[], Awaitable[tuple[str, float]]]


class TokenCache:
    """Holds one token; `fetch` returns (token, lifetime in seconds) and may raise SendError."""

    def __init__(self, fetch: TokenFetch, *, refresh_margin: float = 300.0,
                 clock: Callable[[], float] = time.monotonic, shared: SharedToken | None = None) -> None:
        self._fetch = fetch
        self._shared = shared
        self.refresh_margin = refresh_margin
        self.clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        # a lock, not a shared task: the callers queued behind a fetch find its token when they enter
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self) -> str:
        """A token that is not about to expire, fetching one if needed."""
        async with self._lock:
            if self._token is not None and self.clock() < self._renew_at:
                return self._token
            return await self._renew()

    async def refresh(self, rejected: str) -> str:
        """The platform refused `rejected`: renew, unless a concurrent caller already did."""
        async with self._lock:
            if self._token is not None and self._token != rejected:
                return self._token
            log.info("xiaohongshu.token_rejected")
            return await self._renew(stale=rejected)

    async def _renew(self, stale: str | None = None) -> str:
        self._token = None
        if self._shared is None:
            token, lifetime = await self._counted_fetch()
        else:  # may raise TokenBusy: another instance is fetching and has not stored it yet
            stored = await self._shared.obtain(self._counted_fetch, margin=self.refresh_margin, stale=stale)
            token, lifetime = stored.token, stored.expires_at - self._shared.clock()
        # a short-lived token is renewed halfway, not `refresh_margin` before an expiry already past
        margin = min(self.refresh_margin, lifetime / 2)
        self._token, self._renew_at = token, self.clock() + lifetime - margin
        return token

    async def _counted_fetch(self) -> tuple[str, float]:
        self.fetches += 1
        token, lifetime = await self._fetch()
        log.info("xiaohongshu.token_fetched", expires_in=lifetime)
        return token, lifetime

"""One access token per account for all instances sharing a store.

WeChat keeps one valid token per credential: a new fetch replaces the old one, which stops
working five minutes later; Xiaohongshu's partner API does not document whether it does the
same, so it is treated alike. Instances that each fetched their own would keep invalidating one
another. So with several instances the token is kept in the store (a cursor row per account:
`access_token`, JSON with the token and its expiry in Unix time), and an instance that needs a
new one fetches only while it holds the role `token:<plugin>:<account>`, re-reading the row
first; the others wait for the row to change and use what it holds. With a single instance
(SQLite) none of this is used: the token stays in memory, as it always did.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from csgw.gateway.ports import ChannelHost, Cursors, Leadership

log = structlog.get_logger(__name__)

KEY = "access_token"
Fetch = Callable[[], Awaitable[tuple[str, float]]]  # (token, lifetime in seconds)


@dataclass(frozen=True, slots=True)
class StoredToken:
    token: str
    expires_at: float  # Unix time


class TokenBusy(Exception):
    """Another instance is fetching the token and has not stored it within the wait."""


class SharedToken:
    def __init__(self, cursors: Cursors, leadership: Leadership, channel: str, account: str, *,
                 wait: float = 15.0, poll: float = 0.2, clock: Callable[[], float] = time.time) -> None:
        self.cursors = cursors
        self.leadership = leadership
        self.where = (channel, account)
        self.role = f"token:{channel}:{account}"
        self.wait = wait
        self.poll = poll
        self.clock = clock

    async def read(self) -> StoredToken | None:
        raw = await self.cursors.get(*self.where, KEY)
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return StoredToken(str(data["token"]), float(data["expires_at"]))
        except (ValueError, KeyError, TypeError):
            log.warning("shared_token.unreadable", channel=self.where[0], account=self.where[1])
            return None

    async def obtain(self, fetch: Fetch, *, margin: float, stale: str | None = None) -> StoredToken:
        """The stored token if it is good for more than `margin` seconds and is not `stale` (one
        the platform refused); else one fetched by this instance or, if another is fetching,
        the one it stores. TokenBusy when that takes longer than the wait."""
        deadline = time.monotonic() + self.wait
        while True:
            found = await self._usable(margin, stale)
            if found is not None:
                return found
            if await self.leadership.try_lead(self.role):
                try:
                    return await self._usable(margin, stale) or await self._fetch(fetch)
                finally:
                    await self.leadership.resign(self.role)
            if time.monotonic() >= deadline:
                raise TokenBusy(f"another instance is fetching the access token of {self.where[1]}")
            await asyncio.sleep(self.poll)  # the fetching instance writes the row when it has one

    async def _usable(self, margin: float, stale: str | None) -> StoredToken | None:
        found = await self.read()
        if found is None or found.token == stale or found.expires_at - margin <= self.clock():
            return None
        return found

    async def _fetch(self, fetch: Fetch) -> StoredToken:
        token, lifetime = await fetch()
        stored = StoredToken(token, self.clock() + lifetime)
        await self.cursors.set(*self.where, KEY, json.dumps({"token": token, "expires_at": stored.expires_at}))
        return stored


def shared_token(host: ChannelHost, channel: str, account: str) -> SharedToken | None:
    """The store-kept token of an account when instances may share the store; None on SQLite."""
    if not host.leadership.shared:
        return None
    return SharedToken(host.cursors, host.leadership, channel, account)

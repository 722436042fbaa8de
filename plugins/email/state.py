"""The channel's durable key/value state, scoped to one account over the gateway's cursor store."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

MAX_KEY_CHARS = 128  # the gateway's cursor key column


def storage_key(key: str) -> str:
    """`key` as stored: long keys (Message-IDs can be long) become their prefix plus a hash."""
    if len(key) <= MAX_KEY_CHARS:
        return key
    prefix = key.partition(":")[0][:32]
    return f"{prefix}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


class CursorStore(Protocol):
    """What the gateway offers as `services.cursors`."""

    async def get(self, channel: str, account: str, key: str) -> str | None: ...

    async def set(self, channel: str, account: str, key: str, value: str) -> None: ...


class AccountState:
    """`get(key)` / `set(key, value)` for one channel account; JSON helpers for small records."""

    def __init__(self, cursors: CursorStore, channel: str, account: str) -> None:
        self._cursors = cursors
        self.channel = channel
        self.account = account

    async def get(self, key: str) -> str | None:
        return await self._cursors.get(self.channel, self.account, storage_key(key))

    async def set(self, key: str, value: str) -> None:
        await self._cursors.set(self.channel, self.account, storage_key(key), value)

    async def get_json(self, key: str) -> Any:
        value = await self.get(key)
        return None if value is None else json.loads(value)

    async def set_json(self, key: str, value: Any) -> None:
        await self.set(key, json.dumps(value, ensure_ascii=False, sort_keys=True))

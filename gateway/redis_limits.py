"""Rate limits and remembered values in Redis (`[bus] url = "redis://…"`), for every instance.

A limit is one key holding `tat` (see `shared_limits.py`), moved on by a script, which Redis runs
atomically; the script reads Redis's clock, so instances whose clocks differ count on one. Keys
expire when their bucket is full again and values when their time is up: nothing to sweep.
"""

from __future__ import annotations

import redis.asyncio as redis

from csgw.gateway.shared_limits import Grant

PREFIX = "csgw:limit:"

# KEYS[1] key; ARGV interval, per_seconds, max_wait. Numbers go back as strings: Redis would
# truncate a Lua number to an integer.
TAKE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local interval, window, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - now - window
if wait > max_wait then return {0, tostring(wait)} end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000))
return {1, tostring(wait)}
"""

PEEK = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
return tostring(tat + tonumber(ARGV[1]) - now - tonumber(ARGV[2]))
"""

# KEYS[1] key; ARGV value, ttl in milliseconds
REMEMBER = """
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
"""


class RedisLimits:
    shared = True

    def __init__(self, url: str) -> None:
        self._client: redis.Redis = redis.Redis.from_url(url)
        self._take = self._client.register_script(TAKE)
        self._peek = self._client.register_script(PEEK)
        self._remember = self._client.register_script(REMEMBER)

    async def start(self) -> None:
        await self._client.ping()

    async def stop(self) -> None:
        await self._client.aclose()

    async def take(self, key: str, *, limit: float, per_seconds: float, max_wait: float = 0.0) -> Grant:
        taken, wait = await self._take(keys=[PREFIX + key], args=[per_seconds / limit, per_seconds, max_wait])
        return Grant(bool(int(taken)), max(0.0, float(wait)) if int(taken) else float(wait))

    async def peek(self, key: str, *, limit: float, per_seconds: float) -> Grant:
        wait = float(await self._peek(keys=[PREFIX + key], args=[per_seconds / limit, per_seconds]))
        return Grant(wait <= 0, max(0.0, wait))

    async def remember(self, key: str, value: str, *, ttl: float) -> str:
        held = await self._remember(keys=[PREFIX + "value:" + key], args=[value, max(1, int(ttl * 1000))])
        return held.decode() if isinstance(held, bytes) else str(held)

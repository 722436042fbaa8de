"""Rate limits and remembered values for the whole cluster, on each backend: in memory (SQLite's
one process), in PostgreSQL and in Redis. The same assertions hold for all three."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from structlog.testing import capture_logs

from csgw.gateway.redis_limits import RedisLimits
from csgw.gateway.shared_limits import FailOpen, Grant, MemoryLimits
from csgw.gateway.storage.db import close_database, open_database
from csgw.gateway.storage.pg_limits import PostgresLimits
from tests.conftest import POSTGRES_URL, reset_postgres

REDIS_URL = "redis://127.0.0.1:6379/0"
BACKENDS = ["memory", "redis"] + (["postgres"] if POSTGRES_URL else [])

Limits = MemoryLimits | PostgresLimits | RedisLimits


@pytest.fixture(params=BACKENDS)
async def limits(request) -> AsyncIterator[Limits]:
    if request.param == "memory":
        yield MemoryLimits()
        return
    if request.param == "redis":
        backend: Limits = RedisLimits(REDIS_URL)
    else:
        assert POSTGRES_URL
        await reset_postgres(POSTGRES_URL)
        await open_database(POSTGRES_URL)
        backend = PostgresLimits()
    await backend.start()
    try:
        yield backend
    finally:
        await backend.stop()
        if request.param == "postgres":
            await close_database()


def fresh(name: str) -> str:
    return f"test:{name}:{uuid.uuid4().hex}"  # Redis keeps keys between runs


async def test_a_full_bucket_gives_its_limit_then_refuses_with_the_wait(limits):
    key = fresh("bucket")
    grants = [await limits.take(key, limit=3, per_seconds=60) for _ in range(4)]
    assert [grant.taken for grant in grants] == [True, True, True, False]
    assert grants[0].wait < 1e-6
    assert 19 < grants[3].wait <= 20  # a third of the minute until one unit is back
    assert (await limits.take(fresh("other"), limit=3, per_seconds=60)).taken  # keys are separate


async def test_peek_takes_nothing(limits):
    key = fresh("peek")
    assert (await limits.peek(key, limit=1, per_seconds=60)).taken
    assert (await limits.peek(key, limit=1, per_seconds=60)).taken
    assert (await limits.take(key, limit=1, per_seconds=60)).taken
    refused = await limits.peek(key, limit=1, per_seconds=60)
    assert not refused.taken and 59 < refused.wait <= 60


async def test_a_pace_reserves_slots_within_the_wait_it_accepts(limits):
    key = fresh("pace")  # one call per 100 s; a caller accepts waiting up to 250 s
    grants = [await limits.take(key, limit=1, per_seconds=100, max_wait=250) for _ in range(4)]
    assert [grant.taken for grant in grants] == [True, True, True, False]
    assert grants[0].wait < 1e-6
    assert 99 < grants[1].wait <= 100 and 199 < grants[2].wait <= 200
    assert 299 < grants[3].wait <= 300  # refused: its slot is further than it would wait


async def test_concurrent_takers_never_share_the_last_unit(limits):
    key = fresh("race")
    grants = await asyncio.gather(*(limits.take(key, limit=30, per_seconds=3600) for _ in range(100)))
    assert sum(grant.taken for grant in grants) == 30


async def test_the_first_value_is_kept(limits):
    key = fresh("nonce")
    assert await limits.remember(key, "digest-a", ttl=600) == "digest-a"
    assert await limits.remember(key, "digest-a", ttl=600) == "digest-a"
    assert await limits.remember(key, "digest-b", ttl=600) == "digest-a"
    assert await limits.remember(fresh("nonce"), "digest-b", ttl=600) == "digest-b"


async def test_memory_forgets_values_past_their_time_and_full_buckets():
    clock = [0.0]
    limits = MemoryLimits(clock=lambda: clock[0])
    assert await limits.remember("k", "a", ttl=10) == "a"
    clock[0] = 11
    assert await limits.remember("k", "b", ttl=10) == "b"
    assert (await limits.take("bucket", limit=2, per_seconds=60)).taken
    assert limits.tracked == 1
    clock[0] += 31  # refilled: the key is as good as absent
    assert (await limits.take("other", limit=2, per_seconds=60)).taken
    assert (await limits.take("bucket", limit=2, per_seconds=60)).taken
    assert (await limits.take("bucket", limit=2, per_seconds=60)).taken
    assert not (await limits.take("bucket", limit=2, per_seconds=60)).taken


async def test_redis_keys_expire_when_their_bucket_is_full_again():
    limits = RedisLimits(REDIS_URL)
    await limits.start()
    admin = redis.Redis.from_url(REDIS_URL)
    try:
        key = fresh("expiry")
        await limits.take(key, limit=2, per_seconds=60)  # half a bucket used: full again in 30 s
        assert 29_000 < await admin.pttl(f"csgw:limit:{key}") <= 30_000
        await limits.remember(key, "v", ttl=600)
        assert 599_000 < await admin.pttl(f"csgw:limit:value:{key}") <= 600_000
    finally:
        await admin.aclose()
        await limits.stop()


class Unreachable:
    shared = True

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def take(self, key: str, *, limit: float, per_seconds: float, max_wait: float = 0.0) -> Grant:
        raise ConnectionError("store down")

    async def peek(self, key: str, *, limit: float, per_seconds: float) -> Grant:
        raise ConnectionError("store down")

    async def remember(self, key: str, value: str, *, ttl: float) -> str:
        raise ConnectionError("store down")


async def test_an_unreachable_store_lets_traffic_through_and_says_so():
    limits = FailOpen(Unreachable())
    with capture_logs() as logged:
        assert (await limits.take("k", limit=1, per_seconds=60)).taken
        assert (await limits.take("k", limit=1, per_seconds=60)).taken
        assert (await limits.peek("k", limit=1, per_seconds=60)).taken
        assert await limits.remember("k", "mine", ttl=60) == "mine"
    assert limits.failures == 4
    warnings = [event for event in logged if event["event"].startswith("shared limits unreachable")]
    assert len(warnings) == 1 and warnings[0]["error"] == "ConnectionError"

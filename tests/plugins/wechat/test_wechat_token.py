"""access_token cache against the fake platform: shared fetch, early refresh, forced refresh; with
several instances on one PostgreSQL, one token for all, fetched by one."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from csgw.gateway.shared_token import SharedToken
from csgw.gateway.storage.cursors import CursorStore
from csgw.gateway.storage.db import close_database, open_database
from csgw.gateway.storage.pg_leadership import PostgresLeadership
from csgw.gateway.storage.writer import GroupCommitWriter
from csgw.plugins.wechat.client import ApiClient
from csgw.plugins.wechat.token import ApiError, oa_token_cache, wecom_token_cache
from tests.conftest import POSTGRES_URL, reset_postgres


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_callers_share_one_fetch(platform, http):
    platform.oa.add_app("wx1", "s")
    cache = oa_token_cache(http, platform.url, "wx1", "s")
    tokens = await asyncio.gather(*(cache.get() for _ in range(20)))
    assert len(set(tokens)) == 1 and len(tokens[0]) >= 100
    assert platform.token_fetches == ["wx1"]
    assert await cache.get() == tokens[0]
    assert cache.fetches == 1


async def test_token_is_renewed_shortly_before_expiry(platform, http):
    platform.oa.add_app("wx1", "s")
    clock = Clock()
    cache = oa_token_cache(http, platform.url, "wx1", "s", clock=clock, refresh_margin=300)
    first = await cache.get()
    clock.now += 7200 - 301
    assert await cache.get() == first
    clock.now += 2
    assert await cache.get() != first
    assert len(platform.token_fetches) == 2


@pytest.mark.parametrize("break_tokens", ["invalidate_tokens", "expire_tokens"])
async def test_rejected_token_is_refreshed_once_and_the_call_retried(platform, http, break_tokens):
    platform.oa.add_app("wx1", "s")
    platform.oa.add_user("wx1", "o1", nickname="小明")
    client = ApiClient(http, platform.url, oa_token_cache(http, platform.url, "wx1", "s"))
    await client.call("/cgi-bin/user/info", method="GET", params={"openid": "o1"})
    getattr(platform, break_tokens)()
    info = await client.call("/cgi-bin/user/info", method="GET", params={"openid": "o1"})
    assert info["nickname"] == "小明"
    assert len(platform.token_fetches) == 2
    assert len(platform.calls("/cgi-bin/user/info")) == 3


async def test_a_second_token_error_is_not_retried_forever(platform, http):
    platform.oa.add_app("wx1", "s")
    client = ApiClient(http, platform.url, oa_token_cache(http, platform.url, "wx1", "s"))
    platform.fail_next("/cgi-bin/user/info", errcode=40001, times=5)
    with pytest.raises(ApiError) as info:
        await client.call("/cgi-bin/user/info", method="GET", params={"openid": "o1"})
    assert info.value.code == 40001
    assert len(platform.calls("/cgi-bin/user/info")) == 2


async def test_wrong_secret_is_a_clear_non_retryable_error(platform, http):
    platform.oa.add_app("wx1", "right")
    with pytest.raises(ApiError) as info:
        await oa_token_cache(http, platform.url, "wx1", "wrong").get()
    assert (info.value.code, info.value.retryable) == (40125, False)


async def test_token_endpoint_down_is_retryable(platform, http):
    platform.oa.add_app("wx1", "s")
    platform.fail_next("/cgi-bin/token", status=503)
    cache = oa_token_cache(http, platform.url, "wx1", "s")
    with pytest.raises(ApiError) as info:
        await cache.get()
    assert info.value.retryable
    assert await cache.get()  # the next caller fetches again


async def test_wecom_gettoken(platform, http):
    platform.kf.add_corp("ww1", "cs", open_kfids=["wk1"])
    cache = wecom_token_cache(http, platform.url, "ww1", "cs")
    assert await cache.get()
    assert platform.calls("/cgi-bin/gettoken")[0].query == {"corpid": "ww1", "corpsecret": "cs"}
    with pytest.raises(ApiError) as info:
        await wecom_token_cache(http, platform.url, "ww1", "nope").get()
    assert info.value.code == 40001


# --- several instances on one PostgreSQL: one token for all, fetched once ---------------------

shared = pytest.mark.skipif(not POSTGRES_URL, reason="several instances share PostgreSQL only")


@pytest.fixture
async def cursors():
    """The store several instances share (its cursor table holds the token)."""
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    await open_database(POSTGRES_URL)
    writer = GroupCommitWriter()
    writer.start()
    yield CursorStore(writer)
    await writer.close()
    await close_database()


@pytest.fixture
async def leaderships():
    made: list[PostgresLeadership] = []

    def make() -> PostgresLeadership:
        assert POSTGRES_URL
        made.append(PostgresLeadership(POSTGRES_URL, retry_seconds=0.05))
        return made[-1]

    yield make
    for leadership in made:
        await leadership.stop()


def instance_cache(http, platform, cursors, leadership, **kw):
    """One instance's token cache for the OA account `shop`, backed by the shared store."""
    shared_state = SharedToken(cursors, leadership, "wechat_oa", "shop", poll=0.02,
                               **({"clock": kw.pop("wall")} if "wall" in kw else {}))
    return oa_token_cache(http, platform.url, "wx1", "s", shared=shared_state, **kw)


@shared
async def test_instances_sharing_a_store_fetch_one_token_for_all(platform, http, cursors, leaderships):
    platform.oa.add_app("wx1", "s")
    caches = [instance_cache(http, platform, cursors, leaderships()) for _ in range(3)]
    tokens = await asyncio.gather(*(cache.get() for cache in caches for _ in range(5)))
    assert len(set(tokens)) == 1
    assert platform.token_fetches == ["wx1"]
    assert sum(cache.fetches for cache in caches) == 1
    stored = json.loads(await cursors.get("wechat_oa", "shop", "access_token") or "{}")
    assert stored["token"] == tokens[0] and stored["expires_at"] > time.time() + 7000


@shared
async def test_a_token_the_platform_refused_is_replaced_once_for_all_instances(platform, http, cursors, leaderships):
    platform.oa.add_app("wx1", "s")
    platform.oa.add_user("wx1", "o1", nickname="小明")
    clients = [ApiClient(http, platform.url, instance_cache(http, platform, cursors, leaderships()))
               for _ in range(2)]
    for client in clients:
        await client.call("/cgi-bin/user/info", method="GET", params={"openid": "o1"})
    platform.invalidate_tokens()  # both instances hold the same token, now refused
    answers = await asyncio.gather(*(client.call("/cgi-bin/user/info", method="GET", params={"openid": "o1"})
                                     for client in clients))
    assert [answer["nickname"] for answer in answers] == ["小明", "小明"]
    assert platform.token_fetches == ["wx1", "wx1"]


@shared
async def test_a_token_near_its_expiry_is_renewed_once_for_all_instances(platform, http, cursors, leaderships):
    platform.oa.add_app("wx1", "s")
    wall, monotonic = Clock(), Clock()
    wall.now = time.time()
    caches = [instance_cache(http, platform, cursors, leaderships(), wall=wall, clock=monotonic,
                             refresh_margin=300) for _ in range(2)]
    first = {await cache.get() for cache in caches}
    wall.now += 7200 - 299
    monotonic.now += 7200 - 299
    renewed = set(await asyncio.gather(*(cache.get() for cache in caches)))
    assert len(first) == len(renewed) == 1 and first != renewed
    assert platform.token_fetches == ["wx1", "wx1"]


@shared
async def test_without_the_shared_token_each_instance_fetches_its_own(platform, http, cursors):
    """What the store-kept token prevents: each fetch replaces the token the others use."""
    platform.oa.add_app("wx1", "s")
    tokens = [await oa_token_cache(http, platform.url, "wx1", "s").get() for _ in range(3)]
    assert len(set(tokens)) == 3 and len(platform.token_fetches) == 3

"""The pull fallback inside the real gateway: downtime gaps filled after a restart, push and pull
overlapping stored once, the cursor persisted, lag and failures in `/healthz`; with several
instances on one PostgreSQL, only the one leading the account pulls."""

from __future__ import annotations

import aiohttp
import pytest

from csgw.gateway.leadership import poll_role
from csgw.gateway.models import Message
from csgw.gateway.storage.pg_leadership import PostgresLeadership
from csgw.plugins.xiaohongshu.pull import CURSOR_KEY
from csgw.testing import running_gateway
from tests.conftest import POSTGRES_URL, reset_postgres
from tests.fakes.xiaohongshu_platform import PULL_PATH, TOKEN_PATH
from tests.gateway.helpers import wait_for_condition
from tests.plugins.xiaohongshu.conftest import Pusher, dm, partner_entry, xiaohongshu_plugins

HOUR = 3600


def gateway_with(tmp_path, database_url, partner, **extra):
    return running_gateway(tmp_path, database_url=database_url, extra_plugins=xiaohongshu_plugins(),
                           channels=[partner_entry(partner, **extra)])


async def stored_ids() -> list[str]:
    return await Message.filter(channel="xiaohongshu", direction="in").order_by("id").values_list(
        "external_id", flat=True)


async def channel_check(url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz") as response:
        report = await response.json()
    return next(c for c in report["checks"] if c["name"] == "channel:xiaohongshu/brand")


async def test_messages_held_while_the_gateway_was_down_are_pulled_after_restart(
        tmp_path, database_url, partner, http):
    async with gateway_with(tmp_path, database_url, partner, pull_limit=2) as gw:
        puller = gw.services.channel("xiaohongshu", "brand").puller
        await puller.wait_runs(1)  # the pull at start: nothing held yet
        partner.hold(dm("你好", "m1"))
        assert await Pusher(http, gw.url + "/webhooks/xiaohongshu/brand").push(dm("你好", "m1")) == (200, "success")
        assert await puller.pull() == 1  # pushed and pulled: stored once
        assert await stored_ids() == ["m1"]
    # down: the platform's pushes go nowhere, it keeps the messages
    partner.hold(dm("还在吗", "m2", age=600), dm("下单后多久发货", "m3", user="red-user-2", age=300),
                 dm("好的", "m4", age=60))
    async with gateway_with(tmp_path, database_url, partner, pull_limit=2) as gw:
        await gw.services.channel("xiaohongshu", "brand").puller.wait_runs(1)
        assert await stored_ids() == ["m1", "m2", "m3", "m4"]
        assert await gw.services.cursors.get("xiaohongshu", "brand", CURSOR_KEY) == "c4"
        restart_pulls = partner.calls(PULL_PATH)[-2:]
        # resumed from the stored cursor, two pages of two, not from the beginning
        assert [c.body.get("cursor") for c in restart_pulls] == ["c1", "c3"]
        await partner.wait_sent(3)
        replied = await Message.filter(direction="out").values_list("reply_to_id", flat=True)
        asked = await Message.filter(external_id__in=["m1", "m2", "m3"]).values_list("id", flat=True)
        assert sorted(replied) == sorted(asked)  # once each; m4 (好的) is an acknowledgement the bot lets be


async def test_a_pull_overlapping_pushes_stores_and_answers_each_message_once(
        tmp_path, database_url, partner, http):
    async with gateway_with(tmp_path, database_url, partner) as gw:
        puller = gw.services.channel("xiaohongshu", "brand").puller
        await puller.wait_runs(1)
        pusher = Pusher(http, gw.url + "/webhooks/xiaohongshu/brand")
        messages = [dm("你好", "m1"), dm("在吗", "m2"), dm("发货", "m3")]
        partner.hold(*messages)
        await pusher.push(messages[0])
        await pusher.push(messages[2])
        assert await puller.pull() == 3
        await pusher.push(messages[1])  # a late push of what the pull already stored
        assert sorted(await stored_ids()) == ["m1", "m2", "m3"]
        await partner.wait_sent(3)
        assert await Message.filter(direction="out").count() == 3


async def test_the_lag_and_pull_failures_show_in_healthz(tmp_path, database_url, partner):
    # what the platform kept while csgw was not yet running; the first page pulls, then the platform fails
    partner.hold(dm("旧1", "old-1", age=2 * HOUR), dm("旧2", "old-2", age=1.5 * HOUR),
                 dm("旧3", "old-3", age=HOUR))
    partner.fail_next(status=503, path=PULL_PATH, after=1)
    async with gateway_with(tmp_path, database_url, partner, pull_limit=2) as gw:
        puller = gw.services.channel("xiaohongshu", "brand").puller
        await puller.wait_runs(1)
        check = await channel_check(gw.url)
        # complete only up to the newest message stored: 1.5 hours behind
        assert 1.5 * HOUR - 60 < check["detail"]["sync_lag_seconds"] < 1.5 * HOUR + 60
        assert check["status"] == "down" and check["detail"]["last_error_code"] == "503"
        assert await stored_ids() == ["old-1", "old-2"]

        assert await puller.run_once() is True
        check = await channel_check(gw.url)
        assert check["detail"]["sync_lag_seconds"] < 60 and check["detail"]["pull_runs"] == 2
        assert await stored_ids() == ["old-1", "old-2", "old-3"]


async def test_a_crashing_pull_shows_its_error_in_healthz(tmp_path, database_url, partner, monkeypatch):
    async with gateway_with(tmp_path, database_url, partner) as gw:
        puller = gw.services.channel("xiaohongshu", "brand").puller
        await puller.wait_runs(1)

        async def crash() -> int:
            raise KeyError("items")

        monkeypatch.setattr(puller, "pull", crash)
        assert await puller.run_once() is False
        check = await channel_check(gw.url)
        assert check["detail"]["last_error_code"] == "crash"
        assert "KeyError('items')" in check["detail"]["last_error"]


async def test_a_rate_limited_pull_waits_out_retry_after(tmp_path, database_url, partner):
    async with gateway_with(tmp_path, database_url, partner) as gw:
        channel = gw.services.channel("xiaohongshu", "brand")
        await channel.puller.wait_runs(1)
        partner.hold(dm("你好", "m1"))
        partner.rate_limit_next(retry_after=1, path=PULL_PATH)
        assert await channel.puller.run_once() is False
        check = await channel_check(gw.url)
        assert check["detail"]["last_error_code"] == "rate_limited" and check["detail"]["rate_limited_for"] > 0
        assert await channel.puller.run_once() is True  # waits for the slot, then pulls
        limited, pulled = partner.calls(PULL_PATH)[-2:]
        assert pulled.at - limited.at >= 1.0 and await stored_ids() == ["m1"]


async def test_without_pull_interval_nothing_is_pulled(gateway, platform):
    channel = gateway.services.channel("xiaohongshu", "brand")
    assert channel.puller is None and "sync_lag_seconds" not in channel.health_detail()
    assert platform.calls(PULL_PATH) == [] and platform.calls(TOKEN_PATH) == []


@pytest.mark.skipif(not POSTGRES_URL, reason="several instances share PostgreSQL only")
async def test_a_follower_takes_pushes_but_pulls_only_once_the_leader_is_gone(tmp_path, partner, http):
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    other_instance = PostgresLeadership(POSTGRES_URL)  # it pulls for the account
    assert await other_instance.try_lead(poll_role("xiaohongshu", "brand"))
    try:
        partner.hold(dm("你好", "m1", age=60))  # a push that never came
        async with running_gateway(tmp_path, database_url=POSTGRES_URL, extra_plugins=xiaohongshu_plugins(),
                                   channels=[partner_entry(partner)], database={"leader_retry_seconds": 0.05}) as gw:
            channel = gw.services.channel("xiaohongshu", "brand")
            pushed = await Pusher(http, gw.url + "/webhooks/xiaohongshu/brand").push(dm("在吗", "m2"))
            assert pushed == (200, "success") and await stored_ids() == ["m2"]  # pushes: on every instance
            leadership = gw.services.leadership
            refused = leadership.refused

            async def tried_ten_more_times() -> bool:
                return leadership.refused >= refused + 10

            await wait_for_condition(tried_ten_more_times)
            assert partner.calls(PULL_PATH) == [] and channel.puller.runs == 0
            assert (await channel_check(gw.url))["detail"]["polling"] is False
            await other_instance.stop()  # the instance that pulled is gone
            await channel.puller.wait_runs(1)
            assert await stored_ids() == ["m2", "m1"] and channel.puller.leading
    finally:
        await other_instance.stop()

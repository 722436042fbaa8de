"""A channel's platform down: the outbox backs off for the whole account (capped, jittered, never
a busy loop, one reply trying at a time), health says so, and every reply goes out exactly once
when the platform is back."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

import aiohttp

from csgw.gateway import outbox
from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import OutboxItem
from csgw.testing import running_gateway
from tests.gateway.helpers import wait_for_condition
from tests.reliability.soak import scaled

OUTAGE_SECONDS = scaled(2.5, 150)
BASE_DELAY = scaled(0.05, 1.0)
MAX_DELAY = scaled(0.4, 10.0)
CUSTOMERS = int(scaled(5, 50))


async def healthz(url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz") as response:
        return await response.json()


def check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


async def test_outage_is_retried_with_capped_jittered_backoff_then_delivered_once(tmp_path, monkeypatch):
    monkeypatch.setattr(outbox, "BASE_DELAY", BASE_DELAY)
    monkeypatch.setattr(outbox, "MAX_DELAY", MAX_DELAY)
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a",
                                                    "fail_times": 10**9}]) as gw:
        fake = gw.fake("a")
        attempts_at: dict[int, list[float]] = defaultdict(list)
        real_send = fake.send

        async def timed_send(message):
            attempts_at[message.message_id].append(time.monotonic())
            await real_send(message)

        fake.send = timed_send
        for n in range(CUSTOMERS):
            await gw.services.accept(InboundMessage("fake", "a", f"customer-{n}", "怎么退货", f"m{n}"))
        started = time.monotonic()
        await asyncio.sleep(OUTAGE_SECONDS)  # the outage itself: time passing is what is under test
        window = time.monotonic() - started

        # Back-off, not a busy loop, and for the account, not for each reply: after the first
        # sends fail together, one reply at a time tries, on the capped, jittered schedule.
        ramp = 1
        while BASE_DELAY * 2 ** ramp < MAX_DELAY:
            ramp += 1
        tries = sorted(at for times in attempts_at.values() for at in times)
        first_burst = [at for at in tries if at - tries[0] < BASE_DELAY / 2]
        probes = tries[len(first_burst):]
        assert 1 <= len(first_burst) <= CUSTOMERS
        assert 3 <= len(probes) <= ramp + 2 + window / (MAX_DELAY / 2), (len(probes), ramp, window)
        gaps = [b - a for a, b in zip(probes, probes[1:], strict=False)]
        capped_gaps = gaps[ramp:]
        assert capped_gaps and min(capped_gaps) >= MAX_DELAY / 2 * 0.9
        assert max(capped_gaps) <= MAX_DELAY + 0.5
        assert max(capped_gaps) - min(capped_gaps) > MAX_DELAY * 0.05  # jitter spreads the retries

        down = await healthz(gw.url)
        channel = check(down, "channel:fake/a")
        assert channel["status"] == "down" and channel["value"] == 1.0
        assert channel["detail"]["last_error_code"] == "503" and down["status"] == "down"
        assert check(down, "outbox")["value"] == CUSTOMERS

        fake.config.fail_times = 0  # the platform is back
        sent = await fake.wait_sent(CUSTOMERS, timeout=MAX_DELAY * 2 + 10)
        ids = [message.message_id for message in sent]
        assert len(ids) == len(set(ids)) == CUSTOMERS

        async def all_marked_sent() -> bool:  # the mark commits just after the platform took it
            return await OutboxItem.filter(state="sent").count() == CUSTOMERS

        await wait_for_condition(all_marked_sent)
        assert await OutboxItem.filter(state="pending").count() == 0

        # The failures age out of the channel's window: health recovers without a restart.
        offset = fake.stats.window_seconds + 1
        fake.stats.clock = lambda: time.time() + offset
        fake.stats.success()
        back = await healthz(gw.url)
        assert check(back, "channel:fake/a")["status"] == "ok" and check(back, "outbox")["value"] == 0

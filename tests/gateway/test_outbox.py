"""The outbox: retried with back-off until the platform takes it, in order, once; or given up clearly."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from csgw.gateway import outbox
from csgw.gateway.channel import InboundMessage
from csgw.gateway.clock import now, use_clock
from csgw.gateway.models import Message, OutboxItem
from csgw.testing import running_gateway
from tests.gateway.helpers import wait_for_condition


@pytest.fixture
def fast_backoff(monkeypatch):
    monkeypatch.setattr(outbox, "BASE_DELAY", 0.01)


def test_backoff_is_capped_exponential_with_jitter():
    assert outbox.retry_delay(1, rng=lambda: 0.0) == pytest.approx(0.5)
    assert outbox.retry_delay(4, rng=lambda: 1.0) == pytest.approx(8.0)
    assert outbox.retry_delay(40, rng=lambda: 1.0) == outbox.MAX_DELAY


@pytest.mark.usefixtures("fast_backoff")
async def test_failing_platform_is_retried_until_delivered_once_in_order(tmp_path):
    channels = [{"plugin": "fake", "account": "flaky", "fail_times": 3}]
    async with running_gateway(tmp_path, channels=channels) as gw:
        for i in range(3):
            await gw.services.accept(InboundMessage("fake", "flaky", "u-1", "你好", f"m-{i}"))
        sent = await gw.fake("flaky").wait_sent(3)
        assert [m.message_id for m in sent] == sorted(m.message_id for m in sent)
        assert len({m.message_id for m in sent}) == 3

        async def all_marked_sent() -> bool:  # the mark commits just after the platform took it
            return await OutboxItem.filter(state="sent").count() == 3

        await wait_for_condition(all_marked_sent)
        items = await OutboxItem.all().order_by("id")
        assert [i.state for i in items] == ["sent"] * 3
        assert items[0].attempts == 4


@pytest.mark.usefixtures("fast_backoff")
async def test_refused_send_is_failed_with_the_reason_visible(tmp_path):
    channels = [{"plugin": "fake", "account": "strict", "fail_permanently": True, "fail_code": "45015"}]
    async with running_gateway(tmp_path, channels=channels) as gw:
        await gw.services.accept(InboundMessage("fake", "strict", "u-1", "你好", "m-1"))

        async def failed() -> bool:
            return await OutboxItem.filter(state="failed").count() == 1

        await wait_for_condition(failed)
        message = await Message.get(direction="out")
        assert message.delivery == "failed"
        assert message.payload["delivery_error"] == {"message": "refused by the fake platform", "code": "45015"}
        assert len(gw.fake("strict").attempts) == 1


async def test_a_send_the_platform_later_reports_failed_is_marked_undelivered(tmp_path):
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}]) as gw:
        await gw.services.accept(InboundMessage("fake", "a", "u-1", "你好", "m-1"))
        [sent] = await gw.fake("a").wait_sent(1)
        await gw.services.outbox.mark_undelivered(sent.message_id, "user refused messages", "msg_send_fail:10")
        message = await Message.get(id=sent.message_id)
        assert message.delivery == "failed" and message.payload["delivery_error"]["code"] == "msg_send_fail:10"
        assert (await OutboxItem.get(message_id=sent.message_id)).state == "failed"


@pytest.mark.usefixtures("fast_backoff")
async def test_agents_see_why_replies_are_blocked_until_the_customer_writes_again(tmp_path):
    from csgw.gateway.models import Conversation

    channels = [{"plugin": "fake", "account": "strict", "fail_permanently": True, "fail_code": "45015"}]
    async with running_gateway(tmp_path, channels=channels) as gw:
        accepted = await gw.services.accept(InboundMessage("fake", "strict", "u-1", "你好", "m-1"))

        async def blocked() -> bool:
            flags = (await Conversation.get(id=accepted.conversation_id)).flags
            return flags.get("reply_blocked_reason") == "refused by the fake platform"

        await wait_for_condition(blocked)
        gw.fake("strict").config.fail_permanently = False
        await gw.services.accept(InboundMessage("fake", "strict", "u-1", "在吗", "m-2"))
        await gw.services.pipeline.drain()
        assert "reply_blocked_reason" not in (await Conversation.get(id=accepted.conversation_id)).flags


async def test_a_reply_stored_during_an_earlier_ones_backoff_waits_its_turn(tmp_path, monkeypatch):
    monkeypatch.setattr(outbox, "BASE_DELAY", 0.3)
    channels = [{"plugin": "fake", "account": "flaky", "fail_times": 1}]
    async with running_gateway(tmp_path, channels=channels) as gw:
        fake = gw.fake("flaky")
        await gw.services.accept(InboundMessage("fake", "flaky", "u-1", "你好", "m-0"))

        async def first_failed_and_rescheduled() -> bool:
            return bool(fake.attempts) and await OutboxItem.filter(attempts=1).exists()

        await wait_for_condition(first_failed_and_rescheduled)
        await gw.services.accept(InboundMessage("fake", "flaky", "u-1", "怎么退货", "m-1"))
        sent = await fake.wait_sent(2)
        assert [m.message_id for m in sent] == sorted(m.message_id for m in sent)


async def test_a_failing_store_makes_the_outbox_back_off_whatever_wakes_it(monkeypatch):
    monkeypatch.setattr(outbox, "FAILED_PASS_BACKOFF", 600.0)
    box = outbox.Outbox(writer=None, store=None, channels={})  # type: ignore[arg-type]
    passes = 0
    first_pass = asyncio.Event()

    async def failing_pass() -> float:
        nonlocal passes
        passes += 1
        first_pass.set()
        raise OSError("database is closed")

    monkeypatch.setattr(box, "_dispatch_due", failing_pass)
    box.start()
    await first_pass.wait()
    for _ in range(500):  # every new reply wakes the outbox
        box.wake()
        await asyncio.sleep(0)
    assert passes == 1
    await asyncio.wait_for(box.stop(), timeout=10)  # stopping is not held up by the back-off


async def test_a_dead_platform_pauses_its_account_not_each_reply(tmp_path, monkeypatch, database_url):
    """40 customers of an account whose platform is down cost a try per pause, not 40; another
    account's replies go out meanwhile; when the pause ends one conversation tries first, and
    its success sends the rest, each once."""
    monkeypatch.setattr(outbox, "BASE_DELAY", 600.0)  # the pause outlasts the test until the clock moves
    channels = [{"plugin": "fake", "account": "down", "fail_times": 10**6}, {"plugin": "fake", "account": "up"}]
    async with running_gateway(tmp_path, database_url=database_url, channels=channels) as gw:
        box, down, paused = gw.services.outbox, gw.fake("down"), ("fake", "down")
        for i in range(40):
            await gw.services.accept(InboundMessage("fake", "down", f"u-{i}", "你好", f"m-{i}"))
        await gw.services.pipeline.drain()

        async def all_waiting() -> bool:
            return box.pauses.paused(paused) and await OutboxItem.filter(account="down").count() == 40

        await wait_for_condition(all_waiting)
        tried = len(down.attempts)
        assert 1 <= tried <= outbox.PARALLEL_CONVERSATIONS
        for _ in range(3):  # new replies wake the outbox: nothing more is tried while paused
            await box.run_pass()
        await gw.services.accept(InboundMessage("fake", "down", "u-late", "你好", "m-late"))
        await gw.services.pipeline.drain()
        await box.run_pass()
        assert len(down.attempts) == tried
        assert await OutboxItem.filter(account="down", attempts=0).count() == 41 - tried

        await gw.services.accept(InboundMessage("fake", "up", "u-1", "你好", "m-up"))
        assert len(await gw.fake("up").wait_sent(1)) == 1  # the other account is not held up

        down.config.fail_times = tried  # the platform is back
        later = now() + timedelta(hours=1)
        with use_clock(lambda: later):
            box.wake()
            sent = await down.wait_sent(41)
            assert len({m.message_id for m in sent}) == 41
            assert len(down.attempts) == tried + 41  # no reply tried twice once it worked
            assert not box.pauses.paused(paused) and not box.pauses.probing(paused)

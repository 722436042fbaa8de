"""The outbox: retried with back-off until the platform takes it, in order, once; or given up clearly."""

from __future__ import annotations

import asyncio

import pytest

from csgw.gateway import outbox
from csgw.gateway.channel import InboundMessage
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

"""The customer's latest inbound message, read from the store on every engine the run covers: latest
by when they wrote, so a pull after downtime (older messages stored after newer pushes) misleads it
not; and the pure check a channel's reply window is judged by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csgw.gateway.channel import InboundMessage
from csgw.gateway.customer_history import hours_passed, latest_inbound, written_at
from csgw.gateway.models import Conversation
from csgw.gateway.storage import message_plans
from csgw.gateway.storage.db import close_database, open_database, plan_runner
from csgw.gateway.storage.store import DraftReply, MessageStore, StoredInbound
from csgw.gateway.storage.writer import GroupCommitWriter

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(database_url, monkeypatch):
    monkeypatch.setattr(message_plans, "now", lambda: NOW)  # the receipt time of what is stored
    await open_database(database_url)
    writer = GroupCommitWriter()
    writer.start(plan_runner(database_url))
    yield MessageStore(writer)
    await writer.close()
    await close_database()


async def receive(store: MessageStore, user: str, text: str, written: datetime | None = None, *,
                  received: datetime = NOW, account: str = "shop", kind: str = "text") -> StoredInbound:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(message_plans, "now", lambda: received)
        return await store.store_inbound(InboundMessage("fake", account, user, text, external_id=f"{user}-{text}",
                                                        kind=kind, platform_ts=written))


async def latest_text(user: str) -> str | None:
    message = await latest_inbound("fake", "shop", user)
    return message.text if message is not None else None


async def test_a_pull_after_downtime_does_not_hide_the_newer_push(store):
    newer = await receive(store, "u1", "在吗", NOW - timedelta(hours=1))  # pushed first
    older = await receive(store, "u1", "你好", NOW - timedelta(hours=50))  # pulled at the restart
    assert older.message_id > newer.message_id

    latest = await latest_inbound("fake", "shop", "u1")
    assert latest is not None and latest.id == newer.message_id
    assert written_at(latest) == NOW - timedelta(hours=1)


async def test_the_receipt_time_stands_in_where_the_platform_gave_none(store):
    await receive(store, "u1", "timed", NOW - timedelta(hours=2))
    await receive(store, "u1", "untimed", received=NOW - timedelta(hours=1))
    assert await latest_text("u1") == "untimed"
    assert written_at(await latest_inbound("fake", "shop", "u1")) == NOW - timedelta(hours=1)

    await receive(store, "u2", "untimed", received=NOW - timedelta(hours=2))
    await receive(store, "u2", "timed", NOW - timedelta(hours=3))
    await receive(store, "u2", "event", NOW - timedelta(minutes=90), kind="event")  # events count here
    assert await latest_text("u2") == "event"


async def test_only_this_customers_inbound_on_this_account_in_any_conversation(store):
    first = await receive(store, "u1", "第一次", NOW - timedelta(hours=30))
    await Conversation.filter(id=first.conversation_id).update(state="closed")
    second = await receive(store, "u1", "第二次", NOW - timedelta(hours=20))
    assert second.conversation_id != first.conversation_id
    await store.store_replies(second.conversation, [DraftReply("您好")], answers=second.message_id)  # outbound
    await receive(store, "u1", "另一个账号", NOW, account="other")
    await receive(store, "u2", "别人", NOW)
    await Conversation.filter(id=second.conversation_id).update(state="closed")

    assert await latest_text("u1") == "第二次"
    assert await latest_text("nobody") is None
    assert await latest_inbound("fake", "elsewhere", "u1") is None


def test_hours_passed_means_more_than_that_many_hours_later():
    assert not hours_passed(NOW, NOW + timedelta(hours=48), 48)
    assert hours_passed(NOW, NOW + timedelta(hours=48, seconds=1), 48)
    assert not hours_passed(NOW, NOW + timedelta(minutes=30), 0.5)
    assert hours_passed(NOW, NOW + timedelta(minutes=31), 0.5)

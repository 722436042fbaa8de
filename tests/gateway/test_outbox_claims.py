"""Outbox rows on a shared PostgreSQL: each taken by one instance, handed back or taken over after
its lease, and two outboxes draining one store send every reply once, in order per conversation."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta

import pytest

from csgw.gateway.channel import InboundMessage
from csgw.gateway.clock import now
from csgw.gateway.models import OutboxItem
from csgw.gateway.outbox import Outbox
from csgw.gateway.outbox_claims import OutboxClaims
from csgw.gateway.storage.db import close_database, open_database
from csgw.gateway.storage.writer import GroupCommitWriter
from csgw.testing import running_gateway
from tests.gateway.helpers import wait_for_condition


@pytest.fixture
async def writer(shared_url):
    await open_database(shared_url)
    writer = GroupCommitWriter()
    writer.start()
    yield writer
    await writer.close()
    await close_database()


async def pending_rows(count: int) -> list[int]:
    at = now() - timedelta(seconds=1)
    rows = [await OutboxItem.create(message_id=1000 + n, channel="fake", account="a", next_attempt_at=at,
                                    created_at=at, updated_at=at) for n in range(count)]
    return [row.id for row in rows]


async def test_a_row_is_held_by_one_instance_until_handed_back(writer):
    ids = await pending_rows(5)
    first = OutboxClaims(writer, shared=True, instance="first")
    second = OutboxClaims(writer, shared=True, instance="second")
    assert [item.id for item in await first.due(now(), 3)] == ids[:3]
    assert [item.id for item in await second.due(now(), 10)] == ids[3:]
    assert [item.id for item in await first.due(now(), 10)] == ids[:3]  # its own, not the second's
    await first.release(ids[:3])
    assert [item.id for item in await second.due(now(), 10)] == ids


async def test_a_dead_instances_rows_are_taken_over_when_its_lease_lapses(writer):
    ids = await pending_rows(2)
    dead = OutboxClaims(writer, shared=True, instance="dead", lease_seconds=30)
    alive = OutboxClaims(writer, shared=True, instance="alive", lease_seconds=30)
    assert [item.id for item in await dead.due(now(), 10)] == ids
    assert await alive.due(now() + timedelta(seconds=29), 10) == []
    assert [item.id for item in await alive.due(now() + timedelta(seconds=31), 10)] == ids


async def test_a_renewed_lease_keeps_the_rows(writer):
    ids = await pending_rows(1)
    holder = OutboxClaims(writer, shared=True, instance="holder", lease_seconds=30)
    other = OutboxClaims(writer, shared=True, instance="other", lease_seconds=30)
    await holder.due(now(), 10)
    holder.lease = timedelta(seconds=120)  # as if renewed late in the first lease
    await holder.renew()
    assert await other.due(now() + timedelta(seconds=60), 10) == []
    assert [item.id for item in await holder.due(now(), 10)] == ids


async def test_two_outboxes_on_one_store_send_each_reply_once_in_order(tmp_path, shared_url):
    channels = [{"plugin": "fake", "account": "a"}]
    async with running_gateway(tmp_path, database_url=shared_url, channels=channels) as gw:
        services = gw.services
        other = Outbox(services.writer, services.store, services.channels,
                       claims=OutboxClaims(services.writer, shared=True, instance="other"))
        other.start()
        try:
            for n in range(60):
                await services.accept(InboundMessage("fake", "a", f"u-{n % 6}", "你好", f"m-{n}"))
                other.wake()
            fake = gw.fake("a")
            await fake.wait_sent(60, timeout=60)

            async def all_sent() -> bool:
                return await OutboxItem.filter(state="sent").count() == 60

            await wait_for_condition(all_sent, timeout=30)
            await asyncio.gather(services.pipeline.drain())
        finally:
            await other.stop()
        sent_ids = [m.message_id for m in fake.sent]
        assert len(sent_ids) == len(set(sent_ids)) == 60
        by_customer: dict[str, list[int]] = defaultdict(list)
        for message in fake.sent:
            by_customer[message.user_id].append(int(message.message_id))
        assert all(ids == sorted(ids) for ids in by_customer.values())
        assert await OutboxItem.filter(claimed_by__isnull=False, state="pending").count() == 0

"""Deliveries on a store several instances share (PostgreSQL): each sent by one instance, in
order per conversation; a dead instance's deliveries are taken over when its lease lapses. And on
every store: only the first pending delivery of an (endpoint, conversation) is ever due."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest

from csgw.gateway.channel import InboundMessage
from csgw.gateway.clock import now
from csgw.gateway.outbox_claims import LeasedRows
from csgw.gateway.storage.db import close_database, open_database
from csgw.gateway.storage.writer import GroupCommitWriter
from csgw.plugins.webhooks.config import WebhooksConfig
from csgw.plugins.webhooks.models import TABLE, WebhookDelivery
from csgw.plugins.webhooks.sender import FIRST_OF_ITS_KEY, WebhookSender
from csgw.testing import running_gateway
from tests.gateway.helpers import wait_for_condition
from tests.plugins.webhooks.helpers import settled

FAKE = [{"plugin": "fake", "account": "shop"}]
MODELS = {"webhooks": ["csgw.plugins.webhooks.models"]}


@pytest.fixture
async def writer(database_url):
    await open_database(database_url, MODELS)
    writer = GroupCommitWriter()
    writer.start()
    yield writer
    await writer.close()
    await close_database()


async def deliveries(*keys: str) -> list[int]:
    at = now() - timedelta(seconds=1)
    rows = [await WebhookDelivery.create(delivery_id=f"d{n}", endpoint="crm", event="message.created",
                                         ordering_key=key, body="{}", next_attempt_at=at, created_at=at,
                                         updated_at=at) for n, key in enumerate(keys)]
    return [row.id for row in rows]


async def test_only_the_first_pending_delivery_of_a_key_is_due(writer, database_url):
    first_a, second_a, first_b = await deliveries("conversation:1", "conversation:1", "conversation:2")
    rows = LeasedRows(writer, TABLE, shared=database_url.startswith("postgres"), ready=FIRST_OF_ITS_KEY)
    assert await rows.due_ids(now(), 10) == [first_a, first_b]
    await WebhookDelivery.filter(id=first_a).update(state="failed")
    assert await rows.due_ids(now(), 10) == [second_a, first_b]
    # a first delivery waiting for its retry holds back the ones after it
    await WebhookDelivery.filter(id=first_a).update(state="pending", next_attempt_at=now() + timedelta(hours=1))
    assert await rows.due_ids(now(), 10) == [first_b]


async def test_a_dead_instances_deliveries_are_sent_once_its_lease_lapses(tmp_path, receiver, shared_url):
    async with running_gateway(tmp_path, database_url=shared_url, channels=FAKE) as gw:  # no webhooks: no sender
        ids = await deliveries("conversation:1", "conversation:2")
        writer = gw.services.writer
        dead = LeasedRows(writer, TABLE, shared=True, instance="dead", lease_seconds=30, ready=FIRST_OF_ITS_KEY)
        assert await dead.due_ids(now(), 10) == ids  # taken, then the instance died
        endpoints = {"crm": WebhooksConfig.model_validate([receiver.endpoint(name="crm")]).root[0]}
        later = 0.0

        def clock():
            return now() + timedelta(seconds=later)

        alive = WebhookSender(writer, endpoints, lambda: gw.services.http, shared=True, lease_seconds=30,
                              clock=clock)
        assert await alive.claims.due_ids(clock(), 10) == []  # still leased to the dead one
        later = 31
        alive.start()
        try:
            await wait_for_condition(settled)
        finally:
            await alive.stop()
        assert sorted(r.delivery_id for r in receiver.accepted()) == ["d0", "d1"]


async def test_two_senders_on_one_store_send_each_delivery_once_in_order(tmp_path, receiver, shared_url):
    endpoint = receiver.endpoint(name="crm", events=["message.created"])
    async with running_gateway(tmp_path, database_url=shared_url, channels=FAKE, webhooks=[endpoint]) as gw:
        services = gw.services
        endpoints = {e.label: e for e in services.settings.section("webhooks", WebhooksConfig).root}
        other = WebhookSender(services.writer, endpoints, lambda: services.http, shared=True, lease_seconds=30)
        other.start()
        try:
            for n in range(30):
                await services.accept(InboundMessage("fake", "shop", f"u-{n % 5}", "你好", f"m-{n}"))
                other.wake()
            await gw.fake("shop").wait_sent(30, timeout=60)
            await services.pipeline.drain()
            await wait_for_condition(lambda: count_recorded(60), timeout=30)
            await wait_for_condition(settled, timeout=30)
        finally:
            await other.stop()
        recorded = await WebhookDelivery.all().order_by("id")
    accepted = [r.delivery_id for r in receiver.accepted()]
    assert sorted(accepted) == sorted(row.delivery_id for row in recorded)  # each once
    by_key: dict[str, list[int]] = defaultdict(list)
    sequence = {row.delivery_id: row.id for row in recorded}
    for row in recorded:
        by_key[row.ordering_key].append(row.id)
    arrived: dict[str, list[int]] = defaultdict(list)
    for delivery_id in accepted:
        row = next(r for r in recorded if r.delivery_id == delivery_id)
        arrived[row.ordering_key].append(sequence[delivery_id])
    assert arrived == by_key


async def count_recorded(count: int) -> bool:
    return await WebhookDelivery.all().count() >= count


async def test_a_row_settled_after_its_id_was_read_is_not_sent_again_at_once(writer):
    """A pass reads the due ids, an attempt of one of them ends meanwhile (the row now waits for
    its Retry-After, and has left the in-flight set): the pass must not send it at once."""
    [waiting, due] = await deliveries("c1", "c2")
    await WebhookDelivery.filter(id=waiting).update(attempts=1, next_attempt_at=now() + timedelta(seconds=60))
    sent: list[int] = []
    sender = WebhookSender(writer, {}, lambda: None, shared=False, lease_seconds=30)

    async def stale_ids(at, limit):  # as read just before the attempt settled the row
        return [waiting, due]

    async def deliver(row):
        sent.append(row.id)

    sender.claims.due_ids = stale_ids  # type: ignore[method-assign]
    sender._deliver = deliver  # type: ignore[method-assign]
    await sender._dispatch_due()
    await sender.stop()
    assert sent == [due]

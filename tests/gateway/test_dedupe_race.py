"""The same inbound message reaching two instances on one PostgreSQL at once: stored once, and the
instance that loses the race answers it as a duplicate, as one instance answers a platform retry,
with no error and no store marked down. Likewise a known customer's two messages opening a
conversation at once: one conversation, both messages in it.

The race is made, not hoped for: instance A's transaction is held open after its insert until
instance B's insert is seen waiting on it in `pg_stat_activity`, then A commits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from csgw.gateway.clock import now
from csgw.gateway.messages import InboundMessage
from csgw.gateway.models import Conversation, Customer, Message
from csgw.gateway.storage.db import current_connection
from csgw.gateway.storage.plans import Plan, run_plan_async
from csgw.gateway.storage.store import MessageStore
from csgw.gateway.storage.writer import GroupCommitWriter, OrmPlanRunner
from csgw.testing import running_gateway
from tests.conftest import POSTGRES_URL
from tests.gateway.helpers import wait_for_condition
from tests.scratch_postgres import scratch_postgres

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs CSGW_TEST_POSTGRES_URL")


class HeldRunner(OrmPlanRunner):
    """Instance A's writer: while `hold` is set, each transaction waits before its COMMIT."""

    def __init__(self) -> None:
        self.hold = False
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def run(self, plans: list[Plan[Any]]) -> list[Any]:
        async with in_transaction() as connection:
            results = [await run_plan_async(connection, plan) for plan in plans]
            if self.hold:
                self.holding.set()
                await self.release.wait()
            return results


@pytest.fixture
async def instances(tmp_path):
    """B: a whole gateway on its own database; A: another writer and store on the same database."""
    async with scratch_postgres("csgw_h16_dedupe") as url, running_gateway(
            tmp_path, database_url=url, channels=[{"plugin": "fake", "account": "a"}]) as b:
        runner = HeldRunner()
        writer = GroupCommitWriter()
        writer.start(runner)
        try:
            yield MessageStore(writer), runner, b.services
        finally:
            runner.release.set()
            await writer.close()


async def an_insert_waits_on_another_transaction() -> bool:
    rows = await current_connection().execute_query_dict(
        "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
        "AND query LIKE 'INSERT%'")
    return bool(rows)


@pytest.mark.parametrize("customer", ["new", "known"])
async def test_the_instance_losing_a_dedupe_race_answers_a_duplicate(instances, customer):
    store_a, runner, b = instances
    if customer == "known":  # the race then meets on the message row, not the customer's identity
        await store_a.store_inbound(InboundMessage("fake", "a", "user-1", "在吗", "m0"))
    runner.hold = True
    first = asyncio.create_task(store_a.store_inbound(InboundMessage("fake", "a", "user-1", "你好", "m1")))
    await asyncio.wait_for(runner.holding.wait(), 10)
    second = asyncio.create_task(b.accept(InboundMessage("fake", "a", "user-1", "你好", "m1")))
    await wait_for_condition(an_insert_waits_on_another_transaction)
    runner.release.set()

    stored = await first
    accepted = await second
    assert not stored.duplicate
    assert accepted.duplicate and accepted.message_id == stored.message_id
    assert accepted.conversation_id == stored.conversation_id
    assert await Message.filter(external_id="m1").count() == 1
    assert await Customer.all().count() == 1 and await Conversation.all().count() == 1  # nothing half-written
    assert (await b.store_writes.run()).status == "ok"
    assert not b.writer.failing and b.writer.last_error is None


async def test_a_new_customers_two_messages_on_two_instances_make_one_customer(instances):
    store_a, runner, b = instances
    runner.hold = True
    first = asyncio.create_task(store_a.store_inbound(InboundMessage("fake", "a", "user-2", "你好", "n1")))
    await asyncio.wait_for(runner.holding.wait(), 10)
    second = asyncio.create_task(b.accept(InboundMessage("fake", "a", "user-2", "在吗", "n2")))
    await wait_for_condition(an_insert_waits_on_another_transaction)  # on the customer's identity
    runner.release.set()

    stored = await first
    accepted = await second
    assert not stored.duplicate and not accepted.duplicate
    assert accepted.conversation_id == stored.conversation_id
    assert await Customer.all().count() == 1 and await Conversation.all().count() == 1
    assert (await b.store_writes.run()).status == "ok"


async def test_a_known_customers_two_messages_on_two_instances_open_one_conversation(instances):
    store_a, runner, b = instances
    earlier = await store_a.store_inbound(InboundMessage("fake", "a", "user-3", "在吗", "k0"))
    await Conversation.filter(id=earlier.conversation_id).update(state="closed", closed_at=now())
    runner.hold = True
    first = asyncio.create_task(store_a.store_inbound(InboundMessage("fake", "a", "user-3", "你好", "k1")))
    await asyncio.wait_for(runner.holding.wait(), 10)
    second = asyncio.create_task(b.accept(InboundMessage("fake", "a", "user-3", "还在吗", "k2")))
    # Without the store's one-open-conversation index B's insert would not wait: this times out.
    await wait_for_condition(an_insert_waits_on_another_transaction)
    runner.release.set()

    stored = await first
    accepted = await second
    assert stored.new_conversation and not accepted.duplicate
    assert accepted.conversation_id == stored.conversation_id != earlier.conversation_id
    opened = await Conversation.filter(customer_id=earlier.customer_id, state__not="closed")
    assert [c.id for c in opened] == [stored.conversation_id]
    in_it = await Message.filter(external_id__in=["k1", "k2"]).values_list("conversation_id", flat=True)
    assert in_it == [stored.conversation_id] * 2
    assert (await b.store_writes.run()).status == "ok"
    assert not b.writer.failing and b.writer.last_error is None

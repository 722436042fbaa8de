"""The message write path's plans, run both ways: in the writer's own SQLite thread, and
statement by statement on the ORM's connection (PostgreSQL's way, here also on SQLite)."""

from __future__ import annotations

import asyncio

import pytest

from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Conversation, Customer, Message, OutboxItem
from csgw.gateway.storage.db import close_database, open_database, plan_runner
from csgw.gateway.storage.store import DraftReply, MessageStore
from csgw.gateway.storage.writer import GroupCommitWriter, OrmPlanRunner


@pytest.fixture(params=["writer_connection", "orm_connection"])
async def store(request, database_url):
    await open_database(database_url)
    writer = GroupCommitWriter()
    writer.start(plan_runner(database_url) if request.param == "writer_connection" else OrmPlanRunner())
    yield MessageStore(writer)
    await writer.close()
    await close_database()


async def test_one_batch_dedupes_resolves_customers_and_numbers_rows(store: MessageStore):
    # Eight messages queued at once (one batch): three customers, the last three are platform retries.
    inbounds = [InboundMessage("fake", "a", f"u{i % 3}", f"问题{i}", external_id=f"m{i % 5}") for i in range(8)]
    stored = await asyncio.gather(*(store.store_inbound(m) for m in inbounds))

    assert [s.duplicate for s in stored] == [False] * 5 + [True] * 3
    assert [s.message_id for s in stored[5:]] == [s.message_id for s in stored[:3]]
    rows = {m.id: (m.external_id, m.conversation_id, m.processed) for m in await Message.all()}
    assert rows == {s.message_id: (f"m{i}", s.conversation_id, False) for i, s in enumerate(stored[:5])}
    assert stored[0].conversation_id == stored[3].conversation_id != stored[1].conversation_id
    assert await Customer.all().count() == 3 and await Conversation.all().count() == 3
    assert stored[0].new_conversation and not stored[3].new_conversation

    # Next batch: the caches hint the open conversation; a closed one is never reopened.
    await Conversation.filter(id=stored[1].conversation_id).update(state="closed")
    again = await asyncio.gather(store.store_inbound(InboundMessage("fake", "a", "u0", "还在吗", external_id="n0")),
                                 store.store_inbound(InboundMessage("fake", "a", "u1", "还在吗", external_id="n1")))
    assert again[0].conversation_id == stored[0].conversation_id and not again[0].new_conversation
    assert again[1].conversation_id != stored[1].conversation_id and again[1].new_conversation


async def test_replies_get_outbox_rows_and_mark_the_question_answered(store: MessageStore):
    stored = await store.store_inbound(InboundMessage("fake", "a", "u0", "多久发货", external_id="q1"))
    conversation = stored.conversation
    sent = await store.store_replies(conversation, [DraftReply("48小时内发货"), DraftReply("还有别的问题吗")],
                                     answers=stored.message_id)
    assert [m.text for m in sent] == ["48小时内发货", "还有别的问题吗"] and sent[0].user_id == "u0"
    assert sorted(await OutboxItem.all().values_list("message_id", flat=True)) == [m.message_id for m in sent]
    assert (await Message.get(id=stored.message_id)).processed
    assert (await Message.get(id=sent[1].message_id)).reply_to_id == stored.message_id
    assert conversation.last_message_at is not None

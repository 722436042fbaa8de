"""The plans' records hold what the ORM reads from the same row, on every engine the run covers;
new rows take the models' defaults from their public description."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import UTC, datetime, timedelta, timezone

from csgw.gateway.models import Agent, Conversation, Message
from csgw.gateway.storage.db import close_database, current_connection, open_database
from csgw.gateway.storage.message_plans import (
    CONVERSATION_COLUMNS,
    CONVERSATION_SELECT,
    MESSAGE_COLUMNS,
)
from csgw.gateway.storage.plans import new_row
from csgw.gateway.storage.records import (
    ConversationRecord,
    MessageRecord,
    columns_of,
    record_from_row,
)


async def test_a_row_read_by_a_plan_equals_the_orm_reading_it(database_url):
    await open_database(database_url)
    try:
        opened = datetime(2026, 11, 23, 9, 30, 15, 120000, tzinfo=timezone(timedelta(hours=8)))
        saved = await Conversation.create(
            customer_id=7, channel="wechat_oa", account="shop", state="queued", priority=3,
            bot_state={"menu": ["2", "1"], "misses": 1}, flags={"complaint": True, "渠道": "微信"},
            opened_at=opened, last_message_at=opened + timedelta(minutes=5))
        _, rows = await current_connection().execute_query(f'{CONVERSATION_SELECT} WHERE "id" = {saved.id}')
        row = tuple(rows[0].values()) if isinstance(rows[0], dict) else tuple(rows[0])

        built = record_from_row(ConversationRecord, CONVERSATION_COLUMNS, row)

        orm = await Conversation.get(id=saved.id)
        assert asdict(built) == {name: getattr(orm, name) for name in CONVERSATION_COLUMNS}
        assert built.opened_at.tzinfo is not None and built.opened_at == opened
        assert built.closed_at is None and built.bot_state == {"menu": ["2", "1"], "misses": 1}
    finally:
        await close_database()


def test_records_have_every_column_of_their_table_and_nothing_else():
    assert set(columns_of(ConversationRecord)) == {field["name"] for field in Conversation.describe(
        serializable=False)["data_fields"]} | {"id"}
    assert set(columns_of(MessageRecord)) == set(MESSAGE_COLUMNS) | {"id"}


def test_a_row_just_inserted_keeps_its_python_values():
    at = datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC)
    values = {"id": 41, "conversation_id": 5, "channel": "wechat_oa", "account": "shop", "direction": "in",
              "sender": "customer", "agent_id": None, "kind": "text", "text": "怎么退货", "payload": {"a": [1]},
              "external_id": "m1", "processed": False, "delivery": None, "reply_to_id": None,
              "created_at": at, "platform_ts": None}

    built = MessageRecord(**values)

    assert asdict(built) == values
    assert {field.name for field in fields(built)} == set(values)


def test_a_new_row_takes_the_models_defaults():
    at = datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC)
    columns, row = new_row(Agent, {"name": "alice"}, at)
    values = dict(zip(columns, row, strict=True))
    assert values["name"] == "alice" and values["status"] == "offline" and values["created_at"] == at
    assert values["max_concurrent"] == Agent(name="x").max_concurrent and "id" not in values
    columns, row = new_row(Message, {}, at)
    assert dict(zip(columns, row, strict=True))["payload"] == {}  # a callable default, called


def test_one_timestamp_rule_for_plans_and_the_read_side():
    from datetime import UTC, datetime, timedelta, timezone

    from csgw.gateway.storage.dialect import Sql
    from csgw.gateway.storage.plans import _param
    from csgw.gateway.storage.timestamps import as_datetime

    shanghai = datetime(2026, 11, 26, 20, 30, tzinfo=timezone(timedelta(hours=8)))
    written = _param(shanghai, sqlite=True)
    assert written == "2026-11-26 12:30:00+00:00"  # stored in UTC, whoever's clock made it
    sql = Sql.__new__(Sql)
    sql.sqlite = True
    assert sql.value(shanghai) == written  # the read side filters with the same text
    assert as_datetime(written) == shanghai and as_datetime(written).tzinfo == UTC
    assert as_datetime("2026-11-26 12:30:00") == datetime(2026, 11, 26, 12, 30, tzinfo=UTC)  # naive: UTC
    assert as_datetime(shanghai).tzinfo == UTC and as_datetime(None) is None

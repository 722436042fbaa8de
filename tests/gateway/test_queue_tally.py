"""The database keeps the queue's tallies (`gateway/storage/queue_tally.py`) through every way a
conversation enters, moves in or leaves the queue, on SQLite and PostgreSQL; a place in line is
read from them; a store from before them gains them, counted from its queue."""

from __future__ import annotations

from csgw.gateway.models import Conversation, Message, SchemaVersion
from csgw.gateway.storage import migrations
from csgw.gateway.storage.db import close_database, current_connection, open_database
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.storage.queue_tally import TALLY
from tests.gateway.helpers import add_agent
from tests.routing.conftest import shop


async def tallies() -> dict[tuple[str, int], int]:
    rows = await Sql().rows(f'SELECT "group_key", "priority", "waiting" FROM "{TALLY}" WHERE "waiting" <> 0')
    return {(row["group_key"], row["priority"]): row["waiting"] for row in rows}


async def recounted() -> dict[tuple[str, int], int]:
    rows = await Sql().rows('SELECT "group", "priority", COUNT(*) AS "n" FROM "conversation" '
                            'WHERE "state" = :queued GROUP BY "group", "priority"', queued="queued")
    return {("" if row["group"] is None else "=" + row["group"], row["priority"]): row["n"] for row in rows}


async def assert_tallied(expected: dict[tuple[str, int], int]) -> None:
    assert await recounted() == expected
    assert await tallies() == expected


async def test_the_tallies_follow_the_queue_through_every_change(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        queued = [await s.say(f"u{i}", "人工") for i in range(6)]
        await assert_tallied({("", 0): 6})
        await Conversation.filter(id=queued[0].id).update(priority=5)  # the ORM's own update
        await assert_tallied({("", 0): 5, ("", 5): 1})
        moved = await Conversation.get(id=queued[1].id)
        await s.services.conversations.transfer(moved, agent_id=None, group="售后", force=True)
        await assert_tallied({("", 0): 4, ("", 5): 1, ("=售后", 0): 1})
        agent, _ = await add_agent("amy", status="online")
        await s.services.conversations.take(await Conversation.get(id=queued[2].id), agent)
        await s.services.conversations.close(await Conversation.get(id=queued[3].id))
        await assert_tallied({("", 0): 2, ("", 5): 1, ("=售后", 0): 1})
        await Message.filter(conversation_id=queued[4].id).delete()
        await Conversation.filter(id=queued[4].id).delete()
        await assert_tallied({("", 0): 1, ("", 5): 1, ("=售后", 0): 1})
        await Conversation.filter(id=queued[0].id).update(last_message_at=queued[0].opened_at)  # not a move
        await assert_tallied({("", 0): 1, ("", 5): 1, ("=售后", 0): 1})


async def test_a_newcomers_place_is_read_from_the_tallies(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        for i in range(3):
            await s.say(f"u{i}", "人工")
        # 100 more waiting as far as the tally knows: a place counted through the queue would say 3
        await current_connection().execute_script(f'UPDATE "{TALLY}" SET "waiting" = "waiting" + 100')
        newcomer = await s.say("late", "人工")
        stored = await Conversation.get(id=newcomer.id)
        assert stored.state == "queued" and stored.flags["queue_told"]["ahead"] == 103


def _without_tally(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        return ('DROP TRIGGER "queue_tally_insert"; DROP TRIGGER "queue_tally_delete"; '
                'DROP TRIGGER "queue_tally_update"; ')
    return 'DROP TRIGGER "queue_tally" ON "conversation"; DROP FUNCTION "csgw_queue_tally"(); '


async def test_a_version_14_store_gains_the_tallies_counted_from_its_queue(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        conversations = [await s.say(f"u{i}", "人工") for i in range(3)]
        await current_connection().execute_script(
            f'{_without_tally(database_url)} DROP TABLE "{TALLY}"; '
            'UPDATE "csgw_schema_version" SET "version" = 14')
        await Conversation.filter(id=conversations[0].id).update(priority=2)  # no trigger to see it
    await open_database(database_url)  # upgrades at start
    try:
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
        await assert_tallied({("", 0): 2, ("", 2): 1})
        await Conversation.filter(id=conversations[1].id).update(state="closed")  # triggers back
        await assert_tallied({("", 0): 1, ("", 2): 1})
    finally:
        await close_database()

"""Versioned schema: version 1 is the models' first schema; later changes append steps here.

A fresh database gets the models' current schema in one go and is recorded at the newest
version. An existing one runs the steps it has not seen, in order, each recorded as it
completes — so a step may assume the schema of the version before it (e.g. `ALTER TABLE … ADD
COLUMN`), and a database file from any older csgw upgrades at start.

Several instances may start at once on one PostgreSQL: the check and the change run under the
schema lock (`schema_lock.py`), in one transaction, the version read again once the lock is
held. A store already at the newest version, with every table present, takes no lock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import structlog
from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient

from csgw.gateway.models import SchemaVersion
from csgw.gateway.storage.open_conversations import (
    close_superseded_conversations,
    create_open_conversation_index,
)
from csgw.gateway.storage.plans import run_plan_async
from csgw.gateway.storage.queue_tally import create_queue_tally
from csgw.gateway.storage.schema_lock import schema_change

log = structlog.get_logger(__name__)

Step = Callable[[BaseDBAsyncClient], Awaitable[None]]


async def _initial_schema(connection: BaseDBAsyncClient) -> None:
    await Tortoise.generate_schemas(safe=True)


async def _knowledge_proposals(connection: BaseDBAsyncClient) -> None:
    """Kept as a numbered step: the knowledge tables now belong to the kb plugin, whose missing
    tables `create_plugin_tables` makes."""


async def _customer_shop_user_id(connection: BaseDBAsyncClient) -> None:
    # A database created by step 1 from today's models already has the column.
    if not await _has_column(connection, "customer", "shop_user_id"):
        await connection.execute_script('ALTER TABLE "customer" ADD COLUMN "shop_user_id" VARCHAR(128)')
    await connection.execute_script(
        'CREATE UNIQUE INDEX IF NOT EXISTS "uidx_customer_shop_user_id" ON "customer" ("shop_user_id")')


async def _agent_auto_away_since(connection: BaseDBAsyncClient) -> None:
    if not await _has_column(connection, "agent", "auto_away_since"):
        kind = "TIMESTAMP" if connection.capabilities.dialect == "sqlite" else "TIMESTAMPTZ"
        await connection.execute_script(f'ALTER TABLE "agent" ADD COLUMN "auto_away_since" {kind}')


async def _conversation_opened_at_index(connection: BaseDBAsyncClient) -> None:
    # The service report selects conversations by opened_at; without it every report read them all.
    await connection.execute_script(
        'CREATE INDEX IF NOT EXISTS "idx_conversation_opened_at" ON "conversation" ("opened_at")')


async def _agent_role(connection: BaseDBAsyncClient) -> None:
    if await _has_column(connection, "agent", "role"):
        return
    await connection.execute_script(
        """ALTER TABLE "agent" ADD COLUMN "role" VARCHAR(16) NOT NULL DEFAULT 'agent'""")
    # an existing desk keeps someone who may do everything: its first agent
    await connection.execute_script(
        """UPDATE "agent" SET "role" = 'supervisor' WHERE "id" = (SELECT MIN("id") FROM "agent")""")


async def _outbox_claims(connection: BaseDBAsyncClient) -> None:
    # Several instances on one PostgreSQL lease the rows they send (gateway/outbox_claims.py).
    kind = "TIMESTAMP" if connection.capabilities.dialect == "sqlite" else "TIMESTAMPTZ"
    if not await _has_column(connection, "outbox", "claimed_by"):
        await connection.execute_script('ALTER TABLE "outbox" ADD COLUMN "claimed_by" VARCHAR(64)')
    if not await _has_column(connection, "outbox", "claimed_until"):
        await connection.execute_script(f'ALTER TABLE "outbox" ADD COLUMN "claimed_until" {kind}')


async def _bus_spill(connection: BaseDBAsyncClient) -> None:
    await Tortoise.generate_schemas(safe=True)  # creates only the missing bus_spill table


async def _one_open_conversation_per_thread(connection: BaseDBAsyncClient) -> None:
    # Duplicates from before the index (two instances racing) would fail its creation: the newest
    # of each thread stays open, as the one new messages already went to (open_conversations.py).
    closed = await run_plan_async(connection, close_superseded_conversations())
    if closed:
        log.warning("older open conversations closed: one open conversation per customer thread",
                    count=len(closed), conversation_ids=closed[:100])
    await create_open_conversation_index(connection)


async def _notes_and_tags(connection: BaseDBAsyncClient) -> None:
    # Notes are messages with direction "note": one character more than "in"/"out" had room for
    # (SQLite does not enforce the length). Tags get their own table.
    if connection.capabilities.dialect != "sqlite":
        await connection.execute_script('ALTER TABLE "message" ALTER COLUMN "direction" TYPE VARCHAR(8)')
    await Tortoise.generate_schemas(safe=True)  # creates only the missing conversation_tag table


async def _satisfaction_comment(connection: BaseDBAsyncClient) -> None:
    # A rating's optional comment and when the score came (the comment window runs from it).
    kind = "TIMESTAMP" if connection.capabilities.dialect == "sqlite" else "TIMESTAMPTZ"
    if not await _has_column(connection, "conversation", "satisfaction_comment"):
        await connection.execute_script('ALTER TABLE "conversation" ADD COLUMN "satisfaction_comment" TEXT')
    if not await _has_column(connection, "conversation", "rated_at"):
        await connection.execute_script(f'ALTER TABLE "conversation" ADD COLUMN "rated_at" {kind}')


async def _console_sign_in(connection: BaseDBAsyncClient) -> None:
    # Sessions beside the API token, one-time login links, and the status an agent last chose
    # (a sign-in goes online unless it was away or offline).
    if not await _has_column(connection, "agent", "chosen_status"):
        await connection.execute_script('ALTER TABLE "agent" ADD COLUMN "chosen_status" VARCHAR(16)')
    await Tortoise.generate_schemas(safe=True)  # creates only the missing agent_session and login_code tables


async def _queue_place_index(connection: BaseDBAsyncClient) -> None:
    # A customer's place in line is a count of the queued conversations going first (priority,
    # then waiting_since): with waiting_since in the index the count reads only the index.
    await connection.execute_script(
        'CREATE INDEX IF NOT EXISTS "idx_conversation_queue_place" ON "conversation" '
        '("state", "group", "priority", "waiting_since")')


async def _state_agent_index(connection: BaseDBAsyncClient) -> None:
    # Conversations held for one agent (queued with an agent: the VIP waits, read every tick) and an
    # agent's assigned ones, found by range: a long queue used to be walked row by row for them.
    await connection.execute_script(
        'CREATE INDEX IF NOT EXISTS "idx_conversation_state_agent" ON "conversation" ("state", "agent_id")')


async def _queue_tally(connection: BaseDBAsyncClient) -> None:
    # A place in line from per-group, per-priority counts the database keeps (queue_tally.py), not
    # a walk of every queued conversation's index entry before it.
    await create_queue_tally(connection)


async def _has_column(connection: BaseDBAsyncClient, table: str, column: str) -> bool:
    # Read from the catalog, not probed with a failing SELECT: on PostgreSQL the steps run inside
    # one transaction, which an error would abort.
    if connection.capabilities.dialect == "sqlite":
        rows = await connection.execute_query_dict(f"PRAGMA table_info('{table}')")
        return any(row["name"] == column for row in rows)
    rows = await connection.execute_query_dict(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = $1 AND column_name = $2", [table, column])
    return bool(rows)


STEPS: list[Step] = [_initial_schema, _knowledge_proposals, _customer_shop_user_id, _agent_auto_away_since,
                     _conversation_opened_at_index, _agent_role, _outbox_claims,
                     _bus_spill, _one_open_conversation_per_thread, _notes_and_tags,
                     _satisfaction_comment, _console_sign_in, _queue_place_index, _state_agent_index, _queue_tally]
CURRENT_VERSION = len(STEPS)


async def current_version() -> int:
    """The store's schema version; 0 for a store without tables. Never fails on a missing table
    (inside `schema_change` on PostgreSQL an error would abort the transaction)."""
    if SchemaVersion.describe(serializable=True)["table"] not in await _tables(connections.all()[0]):
        return 0
    row = await SchemaVersion.filter(id=1).first()
    return row.version if row else 0


async def _version_to_upgrade() -> int:
    version = await current_version()
    if version > len(STEPS):
        raise RuntimeError(
            f"the database is at schema version {version}, newer than this csgw ({len(STEPS)})"
        )
    return version


async def upgrade_schema() -> int:
    """Create the schema, or run the steps the store has not seen; the version it is then at."""
    if await _version_to_upgrade() == len(STEPS):
        return len(STEPS)
    async with schema_change() as connection:
        version = await _version_to_upgrade()  # another instance may have done it meanwhile
        if version == 0:
            await Tortoise.generate_schemas(safe=True)
            await _conversation_opened_at_index(connection)
            await create_open_conversation_index(connection)
            await _queue_place_index(connection)
            await _state_agent_index(connection)
            await _queue_tally(connection)
            await SchemaVersion.update_or_create(id=1, defaults={"version": len(STEPS)})
            log.info("schema created", version=len(STEPS))
            return len(STEPS)
        for number, step in enumerate(STEPS[version:], start=version + 1):
            await step(connection)
            await SchemaVersion.update_or_create(id=1, defaults={"version": number})
            log.info("schema upgraded", version=number)
    return len(STEPS)


async def create_plugin_tables(apps: Iterable[str]) -> list[str]:
    """Create the missing tables of the plugins' model apps; returns the tables created.

    Looked up first, read-only, so a start with every table present takes no write lock (another
    process may be importing). Only when one is missing does tortoise create what is missing —
    `IF NOT EXISTS`, so the tables and indexes that exist are left as they are — under the
    schema lock, after looking again (another instance may have created them meanwhile)."""
    registered = Tortoise.apps
    tables = [model.describe(serializable=True)["table"]
              for app in apps if app in registered for model in registered[app].values()]
    present = await _tables(connections.all()[0])
    if all(table in present for table in tables):
        return []
    async with schema_change() as connection:
        present = await _tables(connection)
        missing = [table for table in tables if table not in present]
        if missing:
            await Tortoise.generate_schemas(safe=True)
            log.info("plugin tables created", tables=missing)
    return missing


async def _tables(connection: BaseDBAsyncClient) -> set[str]:
    if connection.capabilities.dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        query = "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
    return {row["name"] for row in await connection.execute_query_dict(query)}

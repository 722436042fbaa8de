"""One instance at a time creates or upgrades the schema of a shared PostgreSQL store.

Two or three instances started at the same instant on one database would otherwise each find the
schema missing (or old) and run the same DDL: one dies with a duplicate type or column, or
deadlocks. `schema_change()` makes the check and the change one critical section across all
processes on the database, keyed by `SCHEMA_LOCK_KEY`.

How, and why this way:
- The lock and the DDL share one connection. Tortoise's public way to keep statements on one
  connection of its asyncpg pool is `in_transaction()`: it binds the acquired connection to the
  running task, so `Tortoise.generate_schemas`, the models' queries and `connections.all()`
  inside the block all run on it. Outside a transaction each statement takes whichever pooled
  connection is free, so a lock could be taken on one and "released" on another.
- Inside that transaction the lock is the transaction-level `pg_advisory_xact_lock`, not the
  session-level `pg_advisory_lock`: a session lock unlocked before COMMIT would let the next
  instance read the version before this one's DDL is visible, and unlocking after COMMIT needs
  the same connection, which the pool has taken back by then. The transaction's lock is
  released by the COMMIT (or ROLLBACK) itself, at the moment the new schema becomes visible, and
  by PostgreSQL when the session dies with its process.
- PostgreSQL's DDL is transactional, so a creation or an upgrade commits as a whole: a step that
  fails leaves the store at the version it had, with no half-run step. (A future step must
  therefore be transactional: no `CREATE INDEX CONCURRENTLY`.)
- A dedicated asyncpg connection holding a session lock would serialise instances as well (the
  lock belongs to a session, and every instance asks for the same key), but the DDL would then
  commit statement by statement on the pool, outside the lock's connection.

SQLite needs none of this: one process serves a file (`csgw serve` holds `sqlite_owner`'s lock),
so `schema_change()` hands back the open connection as it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

log = structlog.get_logger(__name__)

# The ASCII bytes of "csgw-ddl" as a signed bigint: 7166185193636914284. Leadership keys
# (pg_leadership.py) are SHA-256 prefixes of "csgw-leader:<role>", so they never meet it.
SCHEMA_LOCK_KEY = int.from_bytes(b"csgw-ddl", "big", signed=True)


@asynccontextmanager
async def schema_change() -> AsyncIterator[BaseDBAsyncClient]:
    """The connection to check and change the schema on while no other instance does; on
    PostgreSQL a transaction holding the schema lock, committed when the block ends."""
    connection = connections.all()[0]
    if connection.capabilities.dialect == "sqlite":
        yield connection
        return
    async with in_transaction(connection.connection_name) as pinned:
        [row] = await pinned.execute_query_dict("SELECT pg_try_advisory_xact_lock($1) AS taken", [SCHEMA_LOCK_KEY])
        if not row["taken"]:
            log.info("another instance is creating or upgrading the schema; waiting for it")
            await pinned.execute_query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK_KEY])
        yield pinned

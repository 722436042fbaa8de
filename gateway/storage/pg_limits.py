"""Rate limits and remembered values in PostgreSQL, for every instance on the store.

Each limit is one row (`key`, `tat`), moved on by one `INSERT … ON CONFLICT DO UPDATE … WHERE`:
PostgreSQL locks the row for the conflict and re-checks the condition against its newest
version, so instances taking units at once never both take the last. Times are the server's
(`now()`), so instances whose clocks differ still count on one clock.

The two tables are UNLOGGED: written without the write-ahead log, emptied by a crash of the
server. A limit forgotten after a crash lets a full bucket through once; no message depends on
them. They are not part of the versioned schema for that reason, and are created here (under
the schema lock, so instances starting together do not race on the DDL).

Rows of buckets that are full again, and values past their time, are swept by whichever
instance notices a minute has passed: deleting twice is harmless.
"""

from __future__ import annotations

import time

import structlog

from csgw.gateway.shared_limits import Grant
from csgw.gateway.storage.db import current_connection
from csgw.gateway.storage.schema_lock import schema_change

log = structlog.get_logger(__name__)

SWEEP_EVERY = 60.0

CREATE = (
    "CREATE UNLOGGED TABLE IF NOT EXISTS rate_limits (key TEXT PRIMARY KEY, tat DOUBLE PRECISION NOT NULL)",
    "CREATE UNLOGGED TABLE IF NOT EXISTS remembered_values"
    " (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL)",
)

NOW = "extract(epoch FROM now())::float8"

# $1 key, $2 interval (per_seconds / limit), $3 per_seconds, $4 max_wait
TAKE = f"""
INSERT INTO rate_limits AS r (key, tat)
SELECT $1::text, {NOW} + $2::float8 WHERE $2::float8 - $3::float8 <= $4::float8
ON CONFLICT (key) DO UPDATE SET tat = greatest(r.tat, {NOW}) + $2::float8
    WHERE greatest(r.tat, {NOW}) + $2::float8 - {NOW} - $3::float8 <= $4::float8
RETURNING r.tat - {NOW} - $3::float8 AS wait
"""
WAIT = f"SELECT greatest(tat, {NOW}) + $2::float8 - {NOW} - $3::float8 AS wait FROM rate_limits WHERE key = $1"

# $1 key, $2 value, $3 ttl
REMEMBER = f"""
INSERT INTO remembered_values AS m (key, value, expires) VALUES ($1, $2, {NOW} + $3::float8)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN m.expires < {NOW} THEN excluded.value ELSE m.value END,
    expires = CASE WHEN m.expires < {NOW} THEN excluded.expires ELSE m.expires END
RETURNING m.value
"""
SWEEP = (f"DELETE FROM rate_limits WHERE tat < {NOW}", f"DELETE FROM remembered_values WHERE expires < {NOW}")


class PostgresLimits:
    shared = True

    def __init__(self) -> None:
        self._swept_at = time.monotonic()

    async def start(self) -> None:
        async with schema_change() as connection:
            for statement in CREATE:
                await connection.execute_script(statement)

    async def stop(self) -> None:
        return None

    async def take(self, key: str, *, limit: float, per_seconds: float, max_wait: float = 0.0) -> Grant:
        connection = current_connection()
        values = [key, per_seconds / limit, per_seconds, max_wait]
        rows = await connection.execute_query_dict(TAKE, values)
        await self._sweep_now_and_then()
        if rows:
            return Grant(True, max(0.0, float(rows[0]["wait"])))
        rows = await connection.execute_query_dict(WAIT, values[:3])
        return Grant(False, float(rows[0]["wait"]) if rows else per_seconds / limit)

    async def peek(self, key: str, *, limit: float, per_seconds: float) -> Grant:
        rows = await current_connection().execute_query_dict(WAIT, [key, per_seconds / limit, per_seconds])
        wait = float(rows[0]["wait"]) if rows else per_seconds / limit - per_seconds
        return Grant(wait <= 0, max(0.0, wait))

    async def remember(self, key: str, value: str, *, ttl: float) -> str:
        rows = await current_connection().execute_query_dict(REMEMBER, [key, value, ttl])
        return str(rows[0]["value"])

    async def _sweep_now_and_then(self) -> None:
        if time.monotonic() - self._swept_at < SWEEP_EVERY:
            return
        self._swept_at = time.monotonic()
        for statement in SWEEP:
            await current_connection().execute_query(statement)

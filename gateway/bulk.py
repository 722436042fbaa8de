"""Many rows in one statement: the part of the write path that speaks each SQL dialect.

Used by the store's batch handlers inside the writer's transaction, where nobody else can
write: on SQLite, rows inserted by one `executemany` get consecutive ids ending at
`last_insert_rowid()`; on PostgreSQL the ids are drawn from the table's sequence first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient


def is_postgres(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "postgres"


def placeholders(connection: BaseDBAsyncClient, count: int, start: int = 1) -> list[str]:
    if is_postgres(connection):
        return [f"${i}" for i in range(start, start + count)]
    return ["?"] * count


def db_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def insert_rows(connection: BaseDBAsyncClient, table: str, columns: Sequence[str],
                      rows: list[list[Any]]) -> list[int]:
    """Insert `rows`; return their new ids in row order."""
    if not rows:
        return []
    if is_postgres(connection):
        _, found = await connection.execute_query(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, {len(rows)})")
        ids = [row[0] for row in found]
        names = ", ".join(f'"{c}"' for c in ("id", *columns))
        marks = ", ".join(placeholders(connection, len(columns) + 1))
        await connection.execute_many(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                                      [[ident, *row] for ident, row in zip(ids, rows, strict=True)])
        return ids
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(placeholders(connection, len(columns)))
    await connection.execute_many(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
    _, found = await connection.execute_query("SELECT last_insert_rowid()")
    last = found[0][0]
    return list(range(last - len(rows) + 1, last + 1))


async def update_rows(connection: BaseDBAsyncClient, table: str, columns: Sequence[str],
                      rows: list[list[Any]]) -> None:
    """`UPDATE table SET columns… WHERE id = …` for each row: [values…, id]."""
    if not rows:
        return
    marks = placeholders(connection, len(columns) + 1)
    sets = ", ".join(f'"{c}" = {m}' for c, m in zip(columns, marks, strict=False))
    await connection.execute_many(f'UPDATE "{table}" SET {sets} WHERE "id" = {marks[-1]}', rows)

"""Batch writes as plans: a generator yields SQL statements and is sent back their results.

A plan does no I/O of its own, so one plan runs two ways:
- SQLite: every plan of a batch runs inside one transaction on the writer's own connection,
  in the writer's own thread: one thread hop per batch instead of one per statement, and no
  ORM query building on the event loop.
- PostgreSQL (or any other engine): each statement is awaited on the ORM's connection, inside
  the writer's transaction.

SQL is written with `?` placeholders; PostgreSQL gets `$1, $2, …`. Parameters that are dicts
or lists are stored as JSON text; datetimes as ISO text on SQLite, natively elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.models import Model

from csgw.gateway.storage.timestamps import sqlite_text

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Select:
    """Rows as tuples."""

    sql: str
    params: Sequence[Any] = ()


@dataclass(frozen=True, slots=True)
class ExecuteMany:
    """One statement, run once per row; answers None."""

    sql: str
    rows: Sequence[Sequence[Any]]


@dataclass(frozen=True, slots=True)
class Insert:
    """New rows; answers their ids in row order."""

    table: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]


Statement = Select | ExecuteMany | Insert
Plan = Generator[Statement, Any, T]


def update(table: str, values: dict[str, Any], where: str, params: Sequence[Any] = ()) -> ExecuteMany:
    """One UPDATE: `values` set on the rows of `table` matching `where` (with `?` placeholders)."""
    sets = ", ".join(f'"{column}" = ?' for column in values)
    return ExecuteMany(f'UPDATE "{table}" SET {sets} WHERE {where}', [[*values.values(), *params]])


def update_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> ExecuteMany:
    """`UPDATE table SET columns… WHERE id = ?` for each row: [values…, id]."""
    sets = ", ".join(f'"{c}" = ?' for c in columns)
    return ExecuteMany(f'UPDATE "{table}" SET {sets} WHERE "id" = ?', rows)


def update_rows_plan(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Plan[None]:
    """`update_rows` as a plan of its own."""
    yield update_rows(table, columns, rows)


def update_row(table: str, ident: int, values: dict[str, Any]) -> Plan[None]:
    """`values` set on one row of `table`, by id."""
    yield update_rows(table, tuple(values), [[*values.values(), ident]])


def marks(count: int) -> str:
    return ", ".join("?" * count)


def db_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _param(value: Any, sqlite: bool) -> Any:
    if isinstance(value, dict | list):
        return db_json(value)
    if sqlite and isinstance(value, datetime):
        return sqlite_text(value)
    return value


_PASSED_AS_IS = frozenset({str, int, float, bool, bytes, type(None)})


def _params(values: Sequence[Any], sqlite: bool) -> list[Any]:
    # The type test first: most values are plain, and this runs for every value of every row.
    return [value if type(value) in _PASSED_AS_IS else _param(value, sqlite) for value in values]


@lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...], with_id: bool = False) -> str:
    names = ", ".join(f'"{c}"' for c in (("id", *columns) if with_id else columns))
    return f'INSERT INTO "{table}" ({names}) VALUES ({marks(len(columns) + with_id)})'


def _ids_ending_at(last: int, count: int) -> list[int]:
    """SQLite: the rows of one `executemany` under the write lock got consecutive ids."""
    return list(range(last - count + 1, last + 1))


@lru_cache(maxsize=512)
def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, …` (plans never put `?` in a literal)."""
    counter = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


@lru_cache(maxsize=64)
def _defaults(model: type[Model]) -> tuple[tuple[str, Any, bool], ...]:
    """(column, default, stamped with the write time) for each non-key field, from the model's
    public description."""
    described = model.describe(serializable=False)
    return tuple((field["name"], field["default"], bool(field.get("auto_now") or field.get("auto_now_add")))
                 for field in described["data_fields"])


def new_row(model: type[Model], values: dict[str, Any], at: datetime) -> tuple[tuple[str, ...], list[Any]]:
    """Columns and values for a new row of `model`: `values`, else the model's defaults."""
    columns, row = [], []
    for name, default, stamped in _defaults(model):
        if name in values:
            value = values[name]
        elif stamped:
            value = at
        elif callable(default):
            value = default()
        else:
            value = default
        columns.append(name)
        row.append(value)
    return tuple(columns), row


def json_value(value: Any) -> Any:
    """A JSON column's value as Python (SQLite and asyncpg hand JSON back as text)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


# --- PostgreSQL and other engines: statement by statement on the ORM's connection -------------

async def run_plan_async(connection: BaseDBAsyncClient, plan: Plan[T]) -> T:
    """Drive `plan` on an ORM connection (inside the caller's transaction)."""
    sqlite = connection.capabilities.dialect == "sqlite"
    answer: Any = None
    try:
        while True:
            statement = plan.send(answer)
            answer = await _execute_async(connection, statement, sqlite)
    except StopIteration as done:
        return done.value


async def _execute_async(connection: BaseDBAsyncClient, statement: Statement, sqlite: bool) -> Any:
    numbered = (lambda sql: sql) if sqlite else _numbered
    match statement:
        case Select(sql, params):
            # Always fetched: tortoise's execute_query drops the rows of `UPDATE … RETURNING`.
            rows = await connection.execute_query_dict(numbered(sql), _params(params, sqlite))
            return [tuple(row.values()) for row in rows]
        case ExecuteMany(sql, rows):
            if rows:
                await connection.execute_many(numbered(sql), [_params(row, sqlite) for row in rows])
            return None
        case Insert(table, columns, rows):
            return await _insert_async(connection, table, columns, rows, sqlite)
    raise TypeError(f"not a statement: {statement!r}")


async def _insert_async(connection: BaseDBAsyncClient, table: str, columns: Sequence[str],
                        rows: Sequence[Sequence[Any]], sqlite: bool) -> list[int]:
    if not rows:
        return []
    if sqlite:
        await connection.execute_many(_insert_sql(table, tuple(columns)), [_params(row, True) for row in rows])
        _, found = await connection.execute_query("SELECT last_insert_rowid()")
        return _ids_ending_at(found[0][0], len(rows))
    # The ids come from the table's sequence first, so they are known in row order.
    _, found = await connection.execute_query(
        f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, {len(rows)})")
    ids = [row[0] for row in found]
    await connection.execute_many(_numbered(_insert_sql(table, tuple(columns), with_id=True)),
                                  [[ident, *_params(row, False)] for ident, row in zip(ids, rows, strict=True)])
    return ids


# --- SQLite: a whole batch in one hop to the writer's own thread ------------------------------

class SqliteBatchRunner:
    """The writer's own connection to the SQLite file, used from one thread only.

    Rows inserted by one `executemany` inside the writer's transaction get consecutive ids
    ending at `last_insert_rowid()`: nobody else can write while it holds the write lock.
    """

    def __init__(self, path: str, pragmas: dict[str, Any]) -> None:
        self.path = path
        self.pragmas = pragmas
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csgw-sqlite-writer")
        self._connection: sqlite3.Connection | None = None

    async def run(self, plans: list[Plan[Any]]) -> list[Any]:
        """Run `plans` in one transaction; their results in order. Any error rolls all back."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, self._run, plans)
        except sqlite3.IntegrityError as error:
            raise IntegrityError(str(error)) from error
        except sqlite3.Error as error:  # locked, full, I/O: the store cannot write now
            raise OperationalError(str(error)) from error

    async def execute(self, sql: str) -> None:
        """One statement on the writer's connection, outside any batch (pragmas, maintenance)."""
        await asyncio.get_running_loop().run_in_executor(self._thread, lambda: self._connect().execute(sql))

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            for name, value in self.pragmas.items():
                connection.execute(f"PRAGMA {name}={value}")
            self._connection = connection
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _run(self, plans: list[Plan[Any]]) -> list[Any]:
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")  # take the write lock now: no upgrade deadlocks
        try:
            results = [self._drive(connection, plan) for plan in plans]
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return results

    def _drive(self, connection: sqlite3.Connection, plan: Plan[T]) -> T:
        answer: Any = None
        try:
            while True:
                answer = self._execute(connection, plan.send(answer))
        except StopIteration as done:
            return done.value

    @staticmethod
    def _execute(connection: sqlite3.Connection, statement: Statement) -> Any:
        match statement:
            case Select(sql, params):
                return connection.execute(sql, _params(params, True)).fetchall()
            case ExecuteMany(sql, rows):
                if rows:
                    connection.executemany(sql, [_params(row, True) for row in rows])
                return None
            case Insert(table, columns, rows):
                if not rows:
                    return []
                connection.executemany(_insert_sql(table, tuple(columns)), [_params(row, True) for row in rows])
                return _ids_ending_at(connection.execute("SELECT last_insert_rowid()").fetchone()[0], len(rows))
        raise TypeError(f"not a statement: {statement!r}")

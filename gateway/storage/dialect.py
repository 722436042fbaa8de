"""Portable read-side SQL for figures (health traffic, reports, export) on SQLite and PostgreSQL.

Queries use `:name` parameters and `{seconds(a, b)}`-style helpers; this module turns them into
the dialect's placeholders and date arithmetic, and normalises the rows that come back.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from csgw.gateway.storage.db import current_connection
from csgw.gateway.storage.timestamps import sqlite_text

PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


class Sql:
    """One connection's dialect: placeholders, date differences, parameter and value conversion."""

    def __init__(self, connection: BaseDBAsyncClient | None = None) -> None:
        self.connection = connection or current_connection()
        self.sqlite = self.connection.capabilities.dialect == "sqlite"

    def seconds(self, start: str, end: str) -> str:
        """SQL for the seconds from timestamp expression `start` to `end`."""
        if self.sqlite:
            return f"((julianday({end}) - julianday({start})) * 86400.0)"
        return f"EXTRACT(EPOCH FROM ({end} - {start}))"

    def json_text(self, column: str, key: str) -> str:
        """SQL for the text under top-level `key` of JSON column `column` (NULL when absent)."""
        if self.sqlite:
            return f"json_extract({column}, '$.{key}')"
        return f"({column}::jsonb ->> '{key}')"

    def compile(self, query: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
        values: list[Any] = []
        numbers: dict[str, int] = {}

        def place(match: re.Match[str]) -> str:
            name = match.group(1)
            if self.sqlite:
                values.append(self.value(params[name]))
                return "?"
            if name not in numbers:
                values.append(self.value(params[name]))
                numbers[name] = len(values)
            return f"${numbers[name]}"

        return PARAM.sub(place, query), values

    def value(self, value: Any) -> Any:
        if self.sqlite and isinstance(value, datetime):
            return sqlite_text(value)
        return value

    async def rows(self, query: str, **params: Any) -> list[dict[str, Any]]:
        text, values = self.compile(query, params)
        return [dict(row) for row in await self.connection.execute_query_dict(text, values)]


def as_float(value: Any, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)

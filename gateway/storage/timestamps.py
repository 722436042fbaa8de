"""The one rule for timestamps in the store: UTC always; on SQLite, the text tortoise writes.

Written: an aware datetime in UTC (a naive one is taken as UTC), as `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`
on SQLite, so range filters compare like the stored strings; PostgreSQL takes the datetime itself.
Read: whatever a driver hands back (text on SQLite), as an aware datetime in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def in_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sqlite_text(value: datetime) -> str:
    """A datetime as SQLite stores it."""
    return in_utc(value).isoformat(" ")


def as_datetime(value: Any) -> datetime | None:
    """A stored timestamp (a datetime, or ISO text on SQLite) as an aware UTC datetime."""
    if value is None:
        return None
    return in_utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))

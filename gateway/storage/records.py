"""The rows the write plans hand back: plain dataclasses, not ORM instances.

Tortoise declares the tables and runs the read queries; what the writer's plans read and insert
comes back as these records, built from rows without touching tortoise's instance internals.
A record has the same attribute names as its model, so views and rules read either.

`MessageRecord` is frozen. `ConversationRecord` is not: the store sets a conversation's new
values on the snapshot the caller holds once they are committed (`MessageStore.store_replies`),
exactly as it does on an ORM instance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeAlias, TypeVar

from csgw.gateway.models import Conversation, Message
from csgw.gateway.storage.plans import json_value
from csgw.gateway.storage.timestamps import as_datetime

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    conversation_id: int
    channel: str
    account: str
    direction: str
    sender: str
    agent_id: int | None
    kind: str
    text: str
    payload: dict[str, Any]
    external_id: str | None
    processed: bool
    delivery: str | None
    reply_to_id: int | None
    created_at: datetime
    platform_ts: datetime | None


@dataclass(slots=True)
class ConversationRecord:
    id: int
    customer_id: int
    channel: str
    account: str
    thread_key: str | None
    state: str
    priority: int
    group: str | None
    agent_id: int | None
    bot_state: dict[str, Any]
    flags: dict[str, Any]
    satisfaction: int | None
    satisfaction_comment: str | None
    rated_at: datetime | None
    opened_at: datetime
    waiting_since: datetime | None
    assigned_at: datetime | None
    first_response_at: datetime | None
    closed_at: datetime | None
    last_message_at: datetime


# What the core reads a conversation or message from: a plan's record or the ORM's instance.
ConversationState: TypeAlias = Conversation | ConversationRecord
StoredMessage: TypeAlias = Message | MessageRecord


def columns_of(record: type[Any]) -> tuple[str, ...]:
    return tuple(field.name for field in fields(record))


_CONVERTERS: dict[type[Any], dict[str, Callable[[Any], Any]]] = {}


def _converters(record: type[Any]) -> dict[str, Callable[[Any], Any]]:
    """Per column, how a driver's value becomes the record's (SQLite hands back text and ints)."""
    if record in _CONVERTERS:
        return _CONVERTERS[record]
    found: dict[str, Callable[[Any], Any]] = {}
    for field in fields(record):
        kind = str(field.type)
        if "datetime" in kind:
            found[field.name] = as_datetime
        elif kind.startswith("bool"):
            found[field.name] = bool
        elif kind.startswith("dict"):
            found[field.name] = json_value
    _CONVERTERS[record] = found
    return found


def record_from_row(record: type[R], columns: Sequence[str], row: Sequence[Any]) -> R:
    """A record from a row of `columns`, as any driver returns it."""
    convert = _converters(record)
    values = {}
    for column, value in zip(columns, row, strict=True):
        if value is not None and column in convert:
            value = convert[column](value)
        values[column] = value
    return record(**values)

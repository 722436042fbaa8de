"""Message history in and out: a streamed export (keyset pages, flat memory) and its JSONL import.

An export record carries the contract's fields; `--full` adds what an import needs to rebuild the
store faithfully (`id`, `user_id`, `agent_id`, `kind`, `platform_ts`). Imported conversations arrive closed; a
message without a platform id gets `import:<source id>`, so re-running an import adds nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from csgw.gateway.models import (
    MESSAGE_DIRECTIONS,
    MESSAGE_SENDERS,
    Agent,
    Conversation,
    Customer,
    CustomerIdentity,
    Message,
)
from csgw.gateway.portable_sql import Sql, as_datetime

EXPORT_FIELDS = ("conversation_id", "channel", "account", "customer_id", "direction", "sender", "text",
                 "external_id", "created_at")
FULL_FIELDS = (*EXPORT_FIELDS, "id", "user_id", "agent_id", "kind", "platform_ts")  # what an import needs
REQUIRED = ("conversation_id", "channel", "account", "direction", "sender", "created_at")
PAGE = 1000
# A spreadsheet runs a cell that starts with one of these as a formula ("=HYPERLINK(…)" from a
# customer's message): such cells are written with a leading apostrophe, shown but never run.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """A CSV cell a shop can open in Excel safely: no NUL bytes, no formula."""
    if not isinstance(value, str):
        return value
    value = value.replace("\x00", "")
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def spreadsheet_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: spreadsheet_cell(value) for key, value in row.items()} for row in rows]


@dataclass(frozen=True, slots=True)
class ExportFilter:
    since: datetime | None = None
    until: datetime | None = None
    channel: str | None = None  # a plugin name, or plugin/account
    agent_id: int | None = None  # conversations this agent handled

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses, params = ["m.id > :after"], {}
        if self.since:
            clauses.append("m.created_at >= :since")
            params["since"] = self.since
        if self.until:
            clauses.append("m.created_at < :until")
            params["until"] = self.until
        if self.channel:
            plugin, _, account = self.channel.partition("/")
            clauses.append("m.channel = :plugin")
            params["plugin"] = plugin
            if account:
                clauses.append("m.account = :account")
                params["account"] = account
        if self.agent_id is not None:
            clauses.append("c.agent_id = :agent_id")
            params["agent_id"] = self.agent_id
        return " AND ".join(clauses), params


EXPORT_QUERY = """SELECT m.id, m.conversation_id, m.channel, m.account, c.customer_id, m.direction, m.sender,
  m.text, m.external_id, m.created_at, m.agent_id, m.kind, m.platform_ts,
  (SELECT ci.platform_user_id FROM customer_identity ci WHERE ci.customer_id = c.customer_id
     AND ci.channel = m.channel AND ci.account = m.account ORDER BY ci.id LIMIT 1) AS user_id
FROM message m JOIN conversation c ON c.id = m.conversation_id
WHERE {where} ORDER BY m.id LIMIT {page}"""


async def export_count(wanted: ExportFilter) -> int:
    where, params = wanted.where()
    rows = await Sql().rows(f"SELECT COUNT(*) AS n FROM message m JOIN conversation c ON c.id = m.conversation_id "
                            f"WHERE {where}", after=0, **params)
    return int(rows[0]["n"])


async def export_records(wanted: ExportFilter, fields: tuple[str, ...] = EXPORT_FIELDS,
                         ) -> AsyncIterator[list[dict[str, Any]]]:
    """Pages of export records in message id order; only one page is ever held."""
    sql = Sql()
    where, params = wanted.where()
    query = EXPORT_QUERY.format(where=where, page=PAGE)
    after = 0
    while True:
        rows = await sql.rows(query, after=after, **params)
        if not rows:
            return
        after = rows[-1]["id"]
        yield [record(row, fields) for row in rows]


def record(row: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    for name in ("created_at", "platform_ts"):
        stamp = as_datetime(row[name])
        row[name] = stamp.isoformat() if stamp else None
    return {name: row[name] for name in fields}


class RecordError(ValueError):
    """A line of the import file is not an export record."""


def check_record(line: str, number: int) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except ValueError:
        raise RecordError(f"line {number}: not JSON") from None
    if not isinstance(item, dict):
        raise RecordError(f"line {number}: not a JSON object")
    missing = [name for name in REQUIRED if item.get(name) in (None, "")]
    if missing:
        raise RecordError(f"line {number}: missing {', '.join(missing)}")
    if item["direction"] not in MESSAGE_DIRECTIONS or item["sender"] not in MESSAGE_SENDERS:
        raise RecordError(f"line {number}: direction is in/out and sender customer/bot/agent/system")
    try:
        item["created_at"] = as_datetime(item["created_at"])
        item["platform_ts"] = as_datetime(item.get("platform_ts"))
    except ValueError:
        raise RecordError(f"line {number}: created_at is not an ISO time") from None
    return item


def read_records(path: Path) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Pages of checked records, each with the bytes read so far (for progress)."""
    page: list[dict[str, Any]] = []
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            line = raw.decode("utf-8", errors="replace").strip()
            if line:
                page.append(check_record(line, number))
            if len(page) >= PAGE:
                yield stream.tell(), page
                page = []
        if page:
            yield stream.tell(), page


def validate_file(path: Path) -> int:
    """Check every line before anything is written; return the number of records."""
    return sum(len(page) for _, page in read_records(path))


@dataclass
class Importer:
    """Rebuilds customers, conversations and messages from export records, one page per transaction."""

    imported: int = 0
    skipped: int = 0
    customers: dict[tuple[str, str, str], int] = field(default_factory=dict)
    conversations: dict[Any, int] = field(default_factory=dict)
    agents: set[int] = field(default_factory=set)

    async def run(self, path: Path, progress: Callable[[int], None] = lambda done: None) -> None:
        self.agents = set(await Agent.all().values_list("id", flat=True))
        for done, page in read_records(path):
            async with in_transaction() as connection:
                await self.page(connection, page)
            progress(done)

    async def page(self, connection: Any, page: list[dict[str, Any]]) -> None:
        for item in page:
            item["external_id"] = item.get("external_id") or (f"import:{item['id']}" if item.get("id") else None)
        known = await self.known(connection, page)
        fresh: list[Message] = []
        touched: dict[int, tuple[datetime, int | None]] = {}
        for item in page:
            key = (item["channel"], item["account"], item["external_id"])
            if item["external_id"] and key in known:
                self.conversations.setdefault(item["conversation_id"], known[key])
                self.skipped += 1
                continue
            conversation_id = await self.conversation(connection, item)
            agent_id = item.get("agent_id") if item.get("agent_id") in self.agents else None
            fresh.append(Message(
                conversation_id=conversation_id, channel=item["channel"], account=item["account"],
                direction=item["direction"], sender=item["sender"], agent_id=agent_id,
                kind=item.get("kind") or "text", text=item.get("text") or "", external_id=item["external_id"],
                payload={"imported": {k: item.get(k) for k in ("id", "conversation_id", "customer_id", "agent_id")}},
                processed=True, delivery="sent" if item["direction"] == "out" else None,
                created_at=item["created_at"], platform_ts=item["platform_ts"]))
            touched[conversation_id] = (item["created_at"], agent_id or touched.get(conversation_id, (0, None))[1])
        if fresh:
            await Message.bulk_create(fresh, using_db=connection)
        for conversation_id, (last, agent_id) in touched.items():
            values: dict[str, Any] = {"last_message_at": last, "closed_at": last}
            if agent_id:
                values["agent_id"] = agent_id
            await Conversation.filter(id=conversation_id).using_db(connection).update(**values)
        self.imported += len(fresh)

    async def known(self, connection: Any, page: list[dict[str, Any]]) -> dict[tuple[str, str, str], int]:
        by_account: dict[tuple[str, str], list[str]] = {}
        for item in page:
            if item["external_id"]:
                by_account.setdefault((item["channel"], item["account"]), []).append(item["external_id"])
        found = {}
        for (channel, account), ids in by_account.items():
            rows = await Message.filter(channel=channel, account=account, external_id__in=ids).using_db(
                connection).values_list("external_id", "conversation_id")
            found.update({(channel, account, external_id): cid for external_id, cid in rows})
        return found

    async def conversation(self, connection: Any, item: dict[str, Any]) -> int:
        source = item["conversation_id"]
        if source not in self.conversations:
            customer_id = await self.customer(connection, item)
            record = await Conversation.create(
                using_db=connection, customer_id=customer_id, channel=item["channel"], account=item["account"],
                state="closed", opened_at=item["created_at"], closed_at=item["created_at"],
                last_message_at=item["created_at"], flags={"imported_from": source})
            self.conversations[source] = record.id
        return self.conversations[source]

    async def customer(self, connection: Any, item: dict[str, Any]) -> int:
        user = str(item.get("user_id") or f"imported-customer-{item.get('customer_id')}")
        key = (item["channel"], item["account"], user)
        if key not in self.customers:
            identity = await CustomerIdentity.filter(channel=key[0], account=key[1], platform_user_id=user).using_db(
                connection).first()
            if identity is None:
                customer = await Customer.create(using_db=connection)
                identity = await CustomerIdentity.create(using_db=connection, customer_id=customer.id,
                                                         channel=key[0], account=key[1], platform_user_id=user)
            self.customers[key] = identity.customer_id
        return self.customers[key]

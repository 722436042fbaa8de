"""Message history out: a streamed export (keyset pages, flat memory), read back by `history_import`.

An export record carries the contract's fields and the message's `id` (an import's identity for a
message without a platform id), then its conversation's rating: `satisfaction` (1-5) and
`satisfaction_comment` (null when not rated or not commented). `--full` adds what an import needs
to rebuild the store faithfully (`user_id`, `agent_id`, `kind`, `platform_ts`) before the rating.
Fields are only ever added at the end, so a spreadsheet that picks columns by position keeps working.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from csgw.gateway.storage.dialect import Sql
from csgw.gateway.storage.timestamps import as_datetime

# Each field keeps its place: new ones come last (`id`, then the rating).
MESSAGE_FIELDS = ("conversation_id", "channel", "account", "customer_id", "direction", "sender", "text",
                  "external_id", "created_at", "id")
RATING_FIELDS = ("satisfaction", "satisfaction_comment")  # the conversation's, on each of its messages
EXPORT_FIELDS = (*MESSAGE_FIELDS, *RATING_FIELDS)
FULL_FIELDS = (*MESSAGE_FIELDS, "user_id", "agent_id", "kind", "platform_ts", *RATING_FIELDS)  # what an import needs
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
        clauses = ["m.id > :after"]
        params: dict[str, Any] = {}
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
  m.text, m.external_id, m.created_at, m.agent_id, m.kind, m.platform_ts, c.satisfaction, c.satisfaction_comment,
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

"""The read paths that must stay flat as the store grows use indexes, checked with EXPLAIN.

Every statement the service report (each breakdown, the trend, the questions left unanswered and
the latest comments), the export and the agents' conversation and message lists send is captured on the connection and explained (SQLite: EXPLAIN QUERY PLAN; PostgreSQL:
EXPLAIN with sequential scans priced out, so a Seq Scan means no index could serve). None may
read a whole message, conversation or conversation_tag table.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import aiohttp
from tortoise.transactions import in_transaction

from csgw.cli.history_io import ExportFilter, export_records
from csgw.gateway.models import Conversation
from csgw.gateway.reports import ReportRange, service_report
from csgw.gateway.storage.db import current_connection
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent
from tests.reports.seed import H, T, seed_question_types

GROWING = ("message", "conversation_tag", "conversation")


class Captured:
    """The SELECTs sent on a connection while installed (with their parameters)."""

    def __init__(self, connection) -> None:
        self.connection, self.statements = connection, []
        self._originals = {name: getattr(connection, name) for name in ("execute_query", "execute_query_dict")}

    def __enter__(self) -> Captured:
        for name, original in self._originals.items():
            setattr(self.connection, name, self._recording(original))
        return self

    def __exit__(self, *_) -> None:
        for name in self._originals:
            delattr(self.connection, name)  # the class's method shows through again

    def _recording(self, original):
        async def recorded(query, values=None):
            if query.lstrip().upper().startswith(("SELECT", "WITH")):
                self.statements.append((query, list(values or [])))
            return await original(query, values)

        return recorded


def aliases(query: str) -> dict[str, str]:
    """Name (or alias) -> growing table, for the growing tables `query` reads."""
    found = {}
    for table, alias in re.findall(rf'(?:FROM|JOIN)\s+"?({"|".join(GROWING)})"?(?:\s+(?:AS\s+)?(\w+))?', query, re.I):
        found[table] = table
        if alias and alias.upper() not in ("WHERE", "JOIN", "ON", "ORDER", "GROUP", "LEFT", "INNER", "LIMIT"):
            found[alias] = table
    return found


async def full_scans(connection, query: str, values: list) -> list[str]:
    """The growing tables `query` reads whole, per the engine's plan."""
    if connection.capabilities.dialect == "sqlite":
        _, rows = await connection.execute_query(f"EXPLAIN QUERY PLAN {query}", values)
        names = aliases(query)
        details = [row["detail"] if isinstance(row, dict) else row[3] for row in rows]
        # "SCAN x" reads all of x; "SCAN x USING INDEX" walks an index in order (a LIMITed list).
        scanned = [match[1] for detail in details if (match := re.fullmatch(r"SCAN (\w+)", detail))]
        return [names[name] for name in scanned if name in names]
    async with in_transaction() as pinned:  # one pooled connection for the setting and the EXPLAIN
        await pinned.execute_script("SET LOCAL enable_seqscan = off")
        _, rows = await pinned.execute_query(f"EXPLAIN {query}", values)
    lines = [next(iter(row.values())) if isinstance(row, dict) else row[0] for row in rows]
    return [t for line in lines for t in GROWING if re.search(rf"Seq Scan on {t}\b", line)]


async def test_report_export_and_lists_read_through_indexes(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url) as gw, aiohttp.ClientSession() as session:
        await seed_question_types()
        _, token = await add_agent("reader", status="online")
        agent = AgentClient(session, gw.url, token)
        conversation = await Conversation.filter(state="closed").first()
        connection = current_connection()
        with Captured(connection) as captured:
            for by in (None, "category", "tag"):
                await service_report(ReportRange(T - 24 * H, T + 24 * H, zone=ZoneInfo("Asia/Shanghai")), by)
            async for _ in export_records(ExportFilter(since=T - timedelta(days=1))):
                pass
            for query in ("state=queued", "state=assigned&agent=me", "state=closed"):
                await agent.call("GET", f"/conversations?{query}", expect=200)
            await agent.call("GET", f"/conversations/{conversation.id}/messages", expect=200)

        explained = {query: await full_scans(connection, query, values) for query, values in captured.statements}
        assert len(explained) >= 10, explained.keys()  # the paths above were really captured
        assert any("conversation_tag" in query for query in explained)  # categories and tags
        assert any("reply_to_id" in query for query in explained)  # questions left unanswered
        assert any("satisfaction_comment IS NOT NULL" in query for query in explained)  # latest comments
        assert {query[:300]: scans for query, scans in explained.items() if scans} == {}

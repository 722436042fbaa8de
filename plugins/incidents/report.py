"""Incidents in the service report: how many opened in the range, how many customers they
reached, how soon a broadcast answered them, how they ended."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from csgw.gateway.storage.dialect import Sql, as_float

from .config import KINDS


class IncidentFigures:
    name = "incidents"
    title = "incidents / 突发事件"
    labels: Mapping[str, str] = {
        "opened": "opened\n新事件",
        "customers": "customers\n涉及客户",
        "broadcast": "with a broadcast\n已发布广播",
        "time_to_broadcast_avg_seconds": "to broadcast, avg\n广播用时（平均）",
        "time_to_broadcast_max_seconds": "to broadcast, max\n广播用时（最长）",
        "closed_by_hand": "closed by hand\n手动关闭",
        "closed_when_quiet": "closed when quiet\n平息后自动关闭",
        "open": "still open\n仍未关闭",
    }

    async def figures(self, since: datetime, until: datetime) -> dict[str, Any]:
        sql = Sql()
        to_broadcast = sql.seconds("opened_at", "broadcast_at")
        [row] = await sql.rows(f"""
            SELECT COUNT(*) AS opened, COALESCE(SUM(customers), 0) AS customers,
              COUNT(broadcast_at) AS broadcast, AVG({to_broadcast}) AS tt_avg, MAX({to_broadcast}) AS tt_max,
              SUM(CASE WHEN close_reason = 'hand' THEN 1 ELSE 0 END) AS by_hand,
              SUM(CASE WHEN close_reason = 'quiet' THEN 1 ELSE 0 END) AS quiet,
              SUM(CASE WHEN closed_at IS NULL THEN 1 ELSE 0 END) AS still_open
            FROM incident WHERE opened_at >= :since AND opened_at < :until""", since=since, until=until)
        kinds = await sql.rows("SELECT kind, COUNT(*) AS n FROM incident WHERE opened_at >= :since "
                               "AND opened_at < :until GROUP BY kind", since=since, until=until)
        by_kind = dict.fromkeys(KINDS, 0) | {item["kind"]: int(item["n"]) for item in kinds}
        return {
            "opened": int(row["opened"]),
            "customers": int(row["customers"]),
            "broadcast": int(row["broadcast"]),
            "time_to_broadcast_avg_seconds": as_float(row["tt_avg"], 1),
            "time_to_broadcast_max_seconds": as_float(row["tt_max"], 1),
            "closed_by_hand": int(row["by_hand"] or 0),
            "closed_when_quiet": int(row["quiet"] or 0),
            "open": int(row["still_open"] or 0),
            "by_kind": by_kind,
        }

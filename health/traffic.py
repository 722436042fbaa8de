"""Per channel account traffic from the store: message rates, sync lag, outbox backlog, failed sends.

Read from the database rather than counted in memory, so the figures survive a restart and
agree with what reports and exports show. Each query touches only the recent window (indexed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from csgw.gateway.storage.dialect import Sql, as_float
from csgw.gateway.storage.timestamps import as_datetime

Key = tuple[str, str]


@dataclass(slots=True)
class AccountTraffic:
    inbound: int = 0
    outbound: int = 0
    sync_lag_avg_seconds: float | None = None
    sync_lag_max_seconds: float | None = None
    last_inbound_at: datetime | None = None
    outbox_pending: int = 0
    outbox_oldest_pending_seconds: float | None = None
    sends_failed: int = 0
    cursor_age_seconds: float | None = None

    def as_dict(self, window_seconds: float) -> dict[str, object]:
        per_minute = 60.0 / window_seconds
        return {
            "inbound_per_minute": round(self.inbound * per_minute, 2),
            "outbound_per_minute": round(self.outbound * per_minute, 2),
            "sync_lag_avg_seconds": self.sync_lag_avg_seconds,
            "sync_lag_max_seconds": self.sync_lag_max_seconds,
            "last_inbound_at": self.last_inbound_at.isoformat() if self.last_inbound_at else None,
            "outbox_pending": self.outbox_pending,
            "outbox_oldest_pending_seconds": self.outbox_oldest_pending_seconds,
            "sends_failed": self.sends_failed,
            "cursor_age_seconds": self.cursor_age_seconds,
        }


def _aggregate_time(value: object) -> datetime:
    """MIN/MAX of a NOT NULL timestamp column over a non-empty group: never NULL."""
    stamp = as_datetime(value)
    assert stamp is not None, "an aggregate of a NOT NULL column was NULL"
    return stamp


async def account_traffic(at: datetime, window_seconds: float) -> dict[Key, AccountTraffic]:
    sql = Sql()
    since = at - timedelta(seconds=window_seconds)
    found: dict[Key, AccountTraffic] = {}

    def entry(row: dict) -> AccountTraffic:
        return found.setdefault((row["channel"], row["account"]), AccountTraffic())

    lag = sql.seconds("platform_ts", "created_at")
    for row in await sql.rows(
        f"""SELECT channel, account, direction, COUNT(*) AS n, MAX(created_at) AS last_at,
                   AVG(CASE WHEN platform_ts IS NOT NULL THEN {lag} END) AS lag_avg,
                   MAX(CASE WHEN platform_ts IS NOT NULL THEN {lag} END) AS lag_max
            FROM message WHERE created_at >= :since AND direction IN ('in', 'out')
            GROUP BY channel, account, direction""", since=since):
        traffic = entry(row)
        if row["direction"] == "in":
            traffic.inbound = row["n"]
            traffic.last_inbound_at = as_datetime(row["last_at"])
            traffic.sync_lag_avg_seconds = as_float(row["lag_avg"])
            traffic.sync_lag_max_seconds = as_float(row["lag_max"])
        else:
            traffic.outbound = row["n"]
    for row in await sql.rows(
        """SELECT channel, account, state, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox
           WHERE state IN ('pending', 'sending') OR (state = 'failed' AND updated_at >= :since)
           GROUP BY channel, account, state""", since=since):
        traffic = entry(row)
        if row["state"] == "failed":
            traffic.sends_failed = row["n"]
            continue
        traffic.outbox_pending += row["n"]
        age = (at - _aggregate_time(row["oldest"])).total_seconds()
        traffic.outbox_oldest_pending_seconds = round(max(age, traffic.outbox_oldest_pending_seconds or 0), 1)
    for row in await sql.rows("SELECT channel, account, MAX(updated_at) AS updated FROM channel_cursor "
                              "GROUP BY channel, account"):
        entry(row).cursor_age_seconds = round((at - _aggregate_time(row["updated"])).total_seconds(), 1)
    return found

"""Health checks that look inside the gateway: database, outbox, channel accounts."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from csgw.gateway.clock import now
from csgw.gateway.health_check import CheckResult
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.storage.plans import ExecuteMany, Plan
from csgw.health.checks import grade, graded, worst
from csgw.health.traffic import AccountTraffic, account_traffic

if TYPE_CHECKING:
    from csgw.gateway.channel import Channel
    from csgw.gateway.services import GatewayServices

TOUCH = "UPDATE csgw_schema_version SET version = version WHERE id = 1"


def touch() -> Plan[None]:
    """A write that changes nothing: the commit's round trip is what the check measures."""
    yield ExecuteMany(TOUCH, [[]])


class DatabaseCheck:
    """A read round trip, a committed write through the one writer, and the database's size."""

    name = "database"

    def __init__(self, services: GatewayServices) -> None:
        self.services = services

    async def run(self) -> CheckResult:
        s = self.services.settings.health
        threshold = {"degraded": s.database_roundtrip_degraded_ms, "down": s.database_roundtrip_down_ms}
        writer = self.services.writer
        try:
            sql = Sql()
            read_ms = await _timed(sql.connection.execute_query("SELECT 1"), s.database_roundtrip_down_ms)
            write_ms = await _timed(writer.run_plan(touch),
                                    s.database_write_down_ms)
            size = await database_size(sql)
        except Exception as error:
            return CheckResult(self.name, "down", None, threshold, {"error": repr(error) or "timed out"})
        return graded(self.name, read_ms, s.database_roundtrip_degraded_ms, s.database_roundtrip_down_ms,
                      {"unit": "ms", "write_ms": write_ms, "size_bytes": size,
                       "write_threshold_ms": {"degraded": s.database_write_degraded_ms,
                                              "down": s.database_write_down_ms},
                       "writer_backlog": writer.backlog, "writer_error": writer.last_error,
                       "writer_commits": writer.batches, "writer_jobs": writer.jobs},
                      status=grade(write_ms, s.database_write_degraded_ms, s.database_write_down_ms))


async def _timed(awaitable: Any, limit_ms: float) -> float:
    started = time.perf_counter()
    await asyncio.wait_for(awaitable, limit_ms / 1000 * 2)
    return round((time.perf_counter() - started) * 1000, 2)


async def database_size(sql: Sql) -> int:
    query = ("SELECT page_count * page_size AS size FROM pragma_page_count(), pragma_page_size()" if sql.sqlite
             else "SELECT pg_database_size(current_database()) AS size")
    return int((await sql.rows(query))[0]["size"])


class OutboxCheck:
    name = "outbox"

    def __init__(self, services: GatewayServices) -> None:
        self.services = services

    async def run(self) -> CheckResult:
        s = self.services.settings.health
        pending, oldest = await self.services.outbox.backlog()
        return graded(self.name, pending, s.outbox_pending_degraded, s.outbox_pending_down,
                      {"oldest_pending_seconds": oldest},
                      status=grade(oldest or 0, s.outbox_oldest_degraded_seconds, s.outbox_oldest_down_seconds))


class ChannelChecks:
    """One result per channel account: connection stability, sync lag, traffic, its outbox."""

    name = "channels"

    def __init__(self, services: GatewayServices) -> None:
        self.services = services

    async def run(self) -> list[CheckResult]:
        s = self.services.settings.health
        traffic = await account_traffic(now(), s.traffic_window_seconds)
        results = []
        for (plugin, account), channel in self.services.channels.items():
            name = f"channel:{plugin}/{account}"
            try:
                results.append(self.grade(name, channel, traffic.get((plugin, account), AccountTraffic())))
            except Exception as error:  # one broken channel must not hide the others
                results.append(CheckResult(name, "down", None, {},
                                           {"channel": plugin, "account": account, "error": repr(error)}))
        return results

    def grade(self, name: str, channel: Channel, traffic: AccountTraffic) -> CheckResult:
        s = self.services.settings.health
        stats = channel.stats
        ok, bad = stats.window()
        ratio = round(bad / (ok + bad), 3) if ok + bad else 0.0
        own = channel.health_detail()
        detail = {"channel": channel.plugin, "account": channel.account, **stats.as_dict(),
                  **traffic.as_dict(s.traffic_window_seconds), **own}
        # A pull channel knows its own lag best (cursor position); otherwise platform time -> receipt.
        lag = own.get("sync_lag_seconds")
        if not isinstance(lag, int | float):
            lag = traffic.sync_lag_avg_seconds
        detail["sync_lag_seconds"] = lag
        statuses = [
            grade(lag or 0, s.sync_lag_degraded_seconds, s.sync_lag_down_seconds),
            grade(traffic.sends_failed, s.send_failures_degraded, s.send_failures_down),
            grade(traffic.outbox_oldest_pending_seconds or 0, s.outbox_oldest_degraded_seconds,
                  s.outbox_oldest_down_seconds),
            "down" if stats.connected is False else "ok",
        ]
        return graded(name, ratio, s.channel_failure_ratio_degraded, s.channel_failure_ratio_down, detail,
                      status=worst(statuses))

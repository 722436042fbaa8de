"""The health monitor: runs every check, grades the whole, keeps a trend, announces changes.

It checks by itself every `check_interval_seconds`, so alerts go out even when nobody polls
`/healthz`, and keeps a small ring of samples (`history`) for the trend `csgw health` draws.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog

from csgw.health.checks import (
    CheckResult,
    ConnectionsCheck,
    CpuCheck,
    DiskCheck,
    LoopLag,
    LoopLagCheck,
    MemoryCheck,
    worst,
)
from csgw.health.gateway_checks import ChannelChecks, DatabaseCheck, OutboxCheck

if TYPE_CHECKING:
    from csgw.gateway.services import GatewayServices

log = structlog.get_logger(__name__)


def widget_socket_counter(services: GatewayServices) -> Callable[[], int]:
    def count() -> int:
        return sum(channel.client_connections() for channel in services.channels.values())

    return count


def sample(report: dict[str, Any], at: float) -> dict[str, Any]:
    """The few numbers worth a trend line, taken from one report."""
    checks = {check["name"]: check for check in report["checks"]}

    def value(name: str) -> Any:
        return checks.get(name, {}).get("value")

    lags = [c["detail"].get("sync_lag_seconds") for c in report["checks"] if c["name"].startswith("channel:")]
    return {"at": round(at, 3), "status": report["status"], "loop_lag_ms": value("event_loop"),
            "cpu_percent": value("cpu"), "memory_percent": value("memory"),
            "rss_mb": checks.get("memory", {}).get("detail", {}).get("rss_mb"),
            "outbox_pending": value("outbox"), "database_ms": value("database"),
            "sync_lag_seconds": max((lag for lag in lags if isinstance(lag, int | float)), default=None)}


class HealthMonitor:
    def __init__(self, services: GatewayServices, *, clock: Callable[[], float] = time.time) -> None:
        self.services = services
        self.clock = clock
        settings = services.settings.health
        self.loop_lag = LoopLag()
        self.checks: list[Any] = [
            DatabaseCheck(services), OutboxCheck(services), ChannelChecks(services),
            LoopLagCheck(self.loop_lag, settings), CpuCheck(settings), MemoryCheck(settings),
            DiskCheck(services.settings.server.data_dir, settings),
            ConnectionsCheck(settings, widget_socket_counter(services)),
        ]
        self.history: deque[dict[str, Any]] = deque(maxlen=settings.history_size)
        self._last: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self._latest: tuple[float, dict[str, Any]] | None = None  # (monotonic time, report)
        self._running: asyncio.Task[dict[str, Any]] | None = None

    def start(self) -> None:
        self.loop_lag.start()
        self._task = asyncio.create_task(self._run(), name="csgw-health")

    async def stop(self) -> None:
        await self.loop_lag.stop()
        if self._task:
            self._task.cancel()

    async def _run(self) -> None:
        interval = self.services.settings.health.check_interval_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                await self.report()
            except Exception:
                log.exception("health check pass failed")

    async def recent_report(self) -> dict[str, Any]:
        """The latest report if it is recent enough, else a fresh one; concurrent callers share
        one run of the checks (what probes and monitors get)."""
        max_age = self.services.settings.health.report_max_age_seconds
        if self._latest is not None and time.monotonic() - self._latest[0] <= max_age:
            return self._latest[1]
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self.report())
        return await asyncio.shield(self._running)

    async def report(self) -> dict[str, Any]:
        """Run every check (builtin and from plugins); the overall status is the worst."""
        checks = self.checks + list(self.services.extra_health_checks)
        outcomes = await asyncio.gather(*(check.run() for check in checks), return_exceptions=True)
        results: list[CheckResult] = []
        for check, outcome in zip(checks, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                results.append(CheckResult(getattr(check, "name", "check"), "down", None, {},
                                           {"error": repr(outcome)}))
            elif isinstance(outcome, list):
                results.extend(outcome)
            else:
                results.append(outcome)
        await self._observe(results)
        report = {"status": worst([r.status for r in results]), "checks": [r.as_dict() for r in results]}
        self._remember(report)
        report["history"] = list(self.history)
        self._latest = (time.monotonic(), report)
        return report

    def _remember(self, report: dict[str, Any]) -> None:
        at = self.clock()
        if self.history and at - self.history[-1]["at"] < self.services.settings.health.history_interval_seconds:
            return
        self.history.append(sample(report, at))

    async def _observe(self, results: list[CheckResult]) -> None:
        for result in results:
            old = self._last.get(result.name)
            self._last[result.name] = result.status
            if old is not None and old != result.status:
                log.warning("health changed", check=result.name, old=old, new=result.status)
                await self.services.host.health_changed(self.services, result.name, old, result.status,
                                                        result.detail)

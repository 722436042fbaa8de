"""Health checks: each measures one thing and grades it ok / degraded / down by thresholds."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from dataclasses import replace
from typing import Any

import psutil

from csgw.config.schema import HealthSettings
from csgw.gateway.health_check import CheckResult

ORDER = {"ok": 0, "degraded": 1, "down": 2}


def grade(value: float, degraded: float, down: float, *, higher_is_worse: bool = True) -> str:
    if higher_is_worse:
        return "down" if value >= down else "degraded" if value >= degraded else "ok"
    return "down" if value <= down else "degraded" if value <= degraded else "ok"


def worst(statuses: list[str]) -> str:
    return max(statuses, key=ORDER.__getitem__, default="ok")


def graded(name: str, value: float, degraded: float, down: float, detail: dict[str, Any] | None = None,
           *, higher_is_worse: bool = True, status: str | None = None) -> CheckResult:
    """A result graded against its two thresholds (`status` may only make it worse)."""
    own = grade(value, degraded, down, higher_is_worse=higher_is_worse)
    return CheckResult(name, worst([own, status or "ok"]), value, {"degraded": degraded, "down": down},
                       detail or {})


class LoopLag:
    """Measures event-loop lag: how late a timer that should fire every `interval` fires."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.lag_ms = 0.0
        self.max_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="csgw-loop-lag")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.lag_ms = max(0.0, (time.perf_counter() - started - self.interval) * 1000)
            self.max_ms = max(self.max_ms * 0.9, self.lag_ms)


class LoopLagCheck:
    name = "event_loop"

    def __init__(self, lag: LoopLag, settings: HealthSettings) -> None:
        self.lag, self.settings = lag, settings

    async def run(self) -> CheckResult:
        s = self.settings
        return graded(self.name, round(self.lag.max_ms, 1), s.loop_lag_degraded_ms, s.loop_lag_down_ms,
                      {"unit": "ms", "current_ms": round(self.lag.lag_ms, 1)})


class CpuCheck:
    name = "cpu"

    MIN_INTERVAL = 1.0  # shorter samples swing between 0 and 100 %

    def __init__(self, settings: HealthSettings) -> None:
        self.settings = settings
        self.process = psutil.Process(os.getpid())
        psutil.cpu_percent(None)
        self.process.cpu_percent(None)
        self._sampled_at = time.monotonic()
        self._system = self._process = 0.0

    async def run(self) -> CheckResult:
        s = self.settings
        if time.monotonic() - self._sampled_at >= self.MIN_INTERVAL:
            self._system, self._process = psutil.cpu_percent(None), self.process.cpu_percent(None)
            self._sampled_at = time.monotonic()
        result = graded(self.name, self._system, s.cpu_degraded_percent, s.cpu_down_percent,
                        {"unit": "%", "process_percent": self._process, "cores": psutil.cpu_count(),
                         "load_1m": round(os.getloadavg()[0], 2)})
        # A busy host (other programs, or the gateway's own model indexing a KB) is worth a look,
        # never a reason to restart a gateway that still serves: CPU says at most "degraded".
        # A gateway that cannot keep up shows as event-loop lag, which may say "down".
        return replace(result, status="degraded") if result.status == "down" else result


class MemoryCheck:
    """System memory in use, and the gateway's own resident size (a leak shows there first)."""

    name = "memory"

    def __init__(self, settings: HealthSettings) -> None:
        self.settings = settings
        self.process = psutil.Process(os.getpid())

    async def run(self) -> CheckResult:
        s = self.settings
        system = psutil.virtual_memory()
        rss_mb = round(self.process.memory_info().rss / 2**20, 1)
        return graded(self.name, system.percent, s.memory_degraded_percent, s.memory_down_percent,
                      {"unit": "%", "rss_mb": rss_mb, "available_mb": round(system.available / 2**20),
                       "rss_threshold_mb": {"degraded": s.rss_degraded_mb, "down": s.rss_down_mb}},
                      status=grade(rss_mb, s.rss_degraded_mb, s.rss_down_mb))


class DiskCheck:
    """Free space where the database lives (the data folder for SQLite)."""

    name = "disk"

    def __init__(self, path: str, settings: HealthSettings) -> None:
        self.path, self.settings = path, settings

    async def run(self) -> CheckResult:
        s = self.settings
        path = nearest_existing(self.path)
        free_mb = round(shutil.disk_usage(path).free / 2**20)
        return graded(self.name, free_mb, s.disk_free_degraded_mb, s.disk_free_down_mb,
                      {"unit": "MB free", "path": path}, higher_is_worse=False)


def nearest_existing(path: str) -> str:
    current = os.path.abspath(path)
    while not os.path.exists(current) and os.path.dirname(current) != current:
        current = os.path.dirname(current)
    return current


class ConnectionsCheck:
    """Open TCP connections and file descriptors of the process; widget sockets as a detail."""

    name = "connections"

    def __init__(self, settings: HealthSettings, widget_sockets: Any = None) -> None:
        self.settings = settings
        self.process = psutil.Process(os.getpid())
        self.widget_sockets = widget_sockets or (lambda: 0)

    async def run(self) -> CheckResult:
        s = self.settings
        connections = self.process.net_connections(kind="tcp")
        established = sum(1 for c in connections if c.status == psutil.CONN_ESTABLISHED)
        return graded(self.name, established, s.connections_degraded, s.connections_down,
                      {"unit": "connections", "tcp_total": len(connections), "open_files": self.process.num_fds(),
                       "widget_sockets": self.widget_sockets()})

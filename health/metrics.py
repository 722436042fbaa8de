"""`/metrics`: the health report in Prometheus text format (`csgw_` prefix, channel/account labels)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from csgw.health.checks import ORDER

# detail key -> (metric name, help, scale to base units)
CHANNEL_FIGURES = {
    "successes": ("channel_successes", "Platform calls that succeeded within the window", 1),
    "failures": ("channel_failures", "Platform calls that failed within the window", 1),
    "reconnects_recent": ("channel_reconnects", "Reconnects within the window", 1),
    "sync_lag_seconds": ("channel_sync_lag_seconds", "Platform time (or cursor) to receipt", 1),
    "inbound_per_minute": ("channel_inbound_per_minute", "Inbound messages per minute", 1),
    "outbound_per_minute": ("channel_outbound_per_minute", "Outbound messages per minute", 1),
    "outbox_pending": ("channel_outbox_pending", "Outbound messages waiting in the outbox", 1),
    "outbox_oldest_pending_seconds": ("channel_outbox_oldest_pending_seconds", "Age of the oldest pending send", 1),
    "sends_failed": ("channel_sends_failed", "Sends given up on within the window", 1),
    "cursor_age_seconds": ("channel_cursor_age_seconds", "Seconds since a pull cursor last moved", 1),
}
# check name -> (metric name, help, scale) for the check's value
CHECK_VALUES = {
    "event_loop": ("event_loop_lag_seconds", "Event-loop lag (recent peak)", 0.001),
    "cpu": ("cpu_percent", "System CPU use", 1),
    "memory": ("memory_percent", "System memory in use", 1),
    "disk": ("disk_free_bytes", "Free disk where the database lives", 2**20),
    "database": ("database_roundtrip_seconds", "Database read round trip", 0.001),
    "outbox": ("outbox_pending", "Outbound messages waiting in the outbox", 1),
    "connections": ("open_connections", "Established TCP connections of the process", 1),
}
# (check, detail key) -> (metric name, help, scale)
CHECK_DETAILS = {
    ("database", "write_ms"): ("database_write_seconds", "Committed write through the writer", 0.001),
    ("database", "size_bytes"): ("database_size_bytes", "Database size", 1),
    ("database", "writer_backlog"): ("writer_backlog", "Write jobs waiting for the writer", 1),
    # Jobs over commits is the group commit's batch size.
    ("database", "writer_commits"): ("writer_commits", "Transactions the writer has committed", 1),
    ("database", "writer_jobs"): ("writer_jobs", "Write jobs the writer has committed", 1),
    ("memory", "rss_mb"): ("process_resident_memory_bytes", "Resident memory of the gateway", 2**20),
    ("outbox", "oldest_pending_seconds"): ("outbox_oldest_pending_seconds", "Age of the oldest pending send", 1),
    ("connections", "widget_sockets"): ("widget_sockets", "Open site-widget WebSockets", 1),
    ("connections", "open_files"): ("open_files", "Open file descriptors", 1),
}


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


class ReportCollector:
    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report

    def collect(self) -> Iterator[Metric]:
        checks = self.report["checks"]
        up = GaugeMetricFamily("csgw_health_status", "Overall health: 0 ok, 1 degraded, 2 down")
        up.add_metric([], ORDER[self.report["status"]])
        yield up
        status = GaugeMetricFamily("csgw_check_status", "Per check: 0 ok, 1 degraded, 2 down", labels=["check"])
        for check in checks:
            status.add_metric([check["name"]], ORDER[check["status"]])
        yield status
        yield from self._checks(checks)
        yield from self._channels([c for c in checks if c["name"].startswith("channel:")])

    def _checks(self, checks: list[dict[str, Any]]) -> Iterator[Metric]:
        by_name = {check["name"]: check for check in checks}
        for name, (metric, text, scale) in CHECK_VALUES.items():
            value = by_name.get(name, {}).get("value")
            if _number(value):
                yield GaugeMetricFamily(f"csgw_{metric}", text, value=value * scale)
        for (name, key), (metric, text, scale) in CHECK_DETAILS.items():
            value = (by_name.get(name, {}).get("detail") or {}).get(key)
            if _number(value):
                yield GaugeMetricFamily(f"csgw_{metric}", text, value=value * scale)

    def _channels(self, channels: list[dict[str, Any]]) -> Iterator[Metric]:
        labels = ["channel", "account"]
        connected = GaugeMetricFamily("csgw_channel_connected", "1 connected, 0 not (absent: no persistent link)",
                                      labels=labels)
        for check in channels:
            value = check["detail"].get("connected")
            if isinstance(value, bool):
                connected.add_metric(_labels(check), int(value))
        yield connected
        for key, (metric, text, scale) in CHANNEL_FIGURES.items():
            family = GaugeMetricFamily(f"csgw_{metric}", text, labels=labels)
            for check in channels:
                value = check["detail"].get(key)
                if _number(value):
                    family.add_metric(_labels(check), value * scale)
            yield family


def _labels(check: dict[str, Any]) -> list[str]:
    detail = check["detail"]
    if "channel" in detail and "account" in detail:
        return [str(detail["channel"]), str(detail["account"])]
    plugin, _, account = check["name"].removeprefix("channel:").partition("/")
    return [plugin, account]


def render(report: dict[str, Any]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReportCollector(report))
    return generate_latest(registry)


def metrics_response(report: dict[str, Any]) -> web.Response:
    response = web.Response(body=render(report))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response

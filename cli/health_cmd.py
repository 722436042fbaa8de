"""`csgw health`: ask a running gateway; exit 0 ok, 1 degraded, 2 down or unreachable."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

EXIT = {"ok": 0, "degraded": 1, "down": 2}
COLOUR = {"ok": "green", "degraded": "yellow", "down": "red"}
# Detail keys the table leaves to `--json`: labels, units and raw timestamps.
QUIET = {"channel", "account", "unit", "window_seconds", "rss_threshold_mb", "write_threshold_ms", "last_success",
         "last_error_at", "last_inbound_at", "connected"}
BARS = "▁▂▃▄▅▆▇█"
TRENDS = (("loop_lag_ms", "event loop lag / 事件循环延迟", "ms"), ("cpu_percent", "CPU", "%"),
          ("memory_percent", "memory / 内存", "%"), ("outbox_pending", "outbox / 待发送", ""),
          ("sync_lag_seconds", "sync lag / 同步延迟", "s"))


def fetch(url: str) -> dict:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/healthz", timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:  # 503 still carries the report
        try:
            return json.loads(error.read())
        except ValueError:
            return {"status": "down", "checks": [], "error": f"HTTP {error.code}"}
    except (urllib.error.URLError, OSError, ValueError) as error:
        return {"status": "down", "checks": [], "error": f"unreachable: {getattr(error, 'reason', error)}"}


def table(report: dict) -> Table:
    status = report["status"]
    grid = Table(title=f"csgw health: [{COLOUR[status]}]{status}[/]" + (f" — {report['error']}" if report.get("error") else ""))
    for column in ("check", "status", "value", "thresholds", "detail"):
        grid.add_column(column)
    for check in report.get("checks", []):
        threshold = check.get("threshold") or {}
        detail = {k: v for k, v in (check.get("detail") or {}).items()
                  if v not in (None, "", [], {}, 0, 0.0) and k not in QUIET}
        grid.add_row(check["name"], f"[{COLOUR[check['status']]}]{check['status']}[/]", str(check.get("value")),
                     " / ".join(f"{k} {v}" for k, v in threshold.items()),
                     ", ".join(f"{k}={v}" for k, v in detail.items())[:120])
    return grid


def sparkline(values: list[float | None]) -> str:
    """One character per sample, scaled between the series' own low and high; gaps stay blank."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1
    return "".join(" " if v is None else BARS[int((v - low) / span * (len(BARS) - 1))] for v in values)


def trend(report: dict) -> Table | None:
    history = report.get("history") or []
    if len(history) < 2:
        return None
    minutes = round((history[-1]["at"] - history[0]["at"]) / 60)
    grid = Table(title=f"trend, last {minutes} min / 近 {minutes} 分钟趋势", title_justify="left")
    for column in ("figure", "trend", "now", "max"):
        grid.add_column(column)
    for key, label, unit in TRENDS:
        values = [sample.get(key) for sample in history]
        known = [v for v in values if v is not None]
        if known:
            grid.add_row(label, sparkline(values), f"{known[-1]}{unit}", f"{max(known)}{unit}")
    return grid


def view(report: dict) -> Group:
    parts = [table(report)]
    extra = trend(report)
    if extra is not None:
        parts.append(extra)
    return Group(*parts)


def health(
    url: str = typer.Option("http://127.0.0.1:8080", "--url", help="the gateway's base URL"),
    as_json: bool = typer.Option(False, "--json", help="print the JSON report"),
    watch: float = typer.Option(0, "--watch", help="refresh every S seconds until Ctrl-C"),
) -> None:
    """Show the gateway's health / 查看网关健康状况."""
    report = fetch(url)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        raise typer.Exit(EXIT.get(report["status"], 2))
    console = Console()
    if watch <= 0:
        console.print(view(report))
        raise typer.Exit(EXIT.get(report["status"], 2))
    try:
        if not console.is_terminal:  # piped: one report after another, each out as it comes
            while True:
                console.print(view(report))
                sys.stdout.flush()
                time.sleep(watch)
                report = fetch(url)
        with Live(view(report), console=console, refresh_per_second=4) as live:
            while True:
                time.sleep(watch)
                report = fetch(url)
                live.update(view(report))
    except KeyboardInterrupt:
        pass
    raise typer.Exit(EXIT.get(report["status"], 2))

"""`csgw report`: service figures over a time range, as rich tables or one JSON document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from csgw.commands import ConfigOption, dump_json, fail, out, settings_or_exit, with_store
from csgw.gateway.reports import RangeError, report_range, service_report

COLUMNS = (("conversations", "conversations / 会话"), ("handed_over", "to a person / 转人工"),
           ("first_response", "first response avg·p90 / 首次响应"), ("handling", "handling avg·p90 / 处理时长"),
           ("resolution_rate", "resolved / 解决率"), ("bot_containment_rate", "bot only / 机器人独立解决"),
           ("satisfaction", "satisfaction / 满意度"), ("sla_missed", "SLA missed / 超时"))


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


def cell(key: str, value: Any) -> str:
    if key in ("first_response", "handling"):
        return f"{duration(value['avg_seconds'])} · {duration(value['p90_seconds'])}"
    if key == "satisfaction":
        if value["average"] is None:
            return "—"
        rate = value["response_rate"]
        return f"{value['average']:.2f} ({value['responses']}, {rate:.0%})" if rate is not None else f"{value['average']:.2f}"
    if key.endswith("_rate"):
        return "—" if value is None else f"{value:.0%}"
    return str(value)


def figures_table(title: str, label: str, rows: list[tuple[str, dict[str, Any]]], extra: str | None = None) -> Table:
    grid = Table(title=title, title_justify="left")
    grid.add_column(label)
    for _, heading in COLUMNS:
        grid.add_column(heading, justify="right")
    if extra:
        grid.add_column(extra, justify="right")
    for name, row in rows:
        cells = [cell(key, row[key]) for key, _ in COLUMNS]
        grid.add_row(name, *cells, *([str(row.get("messages_sent", 0))] if extra else []))
    return grid


def report(
    since: str | None = typer.Option(None, "--since", help="from this ISO date/time (default: 30 days ago)"),
    until: str | None = typer.Option(None, "--until", help="up to this ISO date/time (default: now)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON document"),
    config: Path | None = ConfigOption,
) -> None:
    """Service figures: response times, resolution, bot containment, satisfaction / 服务指标."""
    settings = settings_or_exit(config)
    try:
        span = report_range(since, until, settings)
    except RangeError as error:
        fail(str(error))
    figures = with_store(settings, lambda: service_report(span))
    if as_json:
        dump_json(figures)
        return
    out.print(f"{figures['since']} → {figures['until']}", highlight=False)
    out.print(figures_table("total / 总计", "", [("all / 全部", figures["total"])]))
    out.print(figures_table("per agent / 按客服", "agent / 客服",
                            [(a["agent"] or str(a["agent_id"]), a) for a in figures["agents"]],
                            extra="messages / 消息"))
    out.print(figures_table("per channel / 按渠道", "channel / 渠道",
                            [(f"{c['channel']}/{c['account']}", c) for c in figures["channels"]]))
    if figures["groups"]:
        out.print(figures_table("per group / 按分组", "group / 分组", [(g["group"], g) for g in figures["groups"]]))

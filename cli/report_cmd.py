"""`csgw report`: service figures over a time range, as rich tables or one JSON document.

Without `--by` it prints the total and the figures per agent, channel and group, as it always
did; `--by category|tag|agent|channel|group` prints the total and that breakdown only (with
categories, the questions the bot left unanswered). `--trend` adds a table per day. Every table
fits a 100-column terminal: headers are short (English over Chinese) and cells wrap, never cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.cells import cell_len
from rich.console import RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from csgw.commands import ConfigOption, dump_json, fail, out, settings_or_exit, with_store
from csgw.gateway.clock import shop_time
from csgw.gateway.plugin_host import plugin_host_for
from csgw.gateway.report_days import MAX_TREND_DAYS, shop_days
from csgw.gateway.report_sections import ReportSection
from csgw.gateway.reports import (
    BREAKDOWNS,
    RangeError,
    breakdowns_for,
    report_range,
    service_report,
)

# (figure, header): the default tables' columns
COLUMNS = (("conversations", "chats\n会话"), ("handed_over", "to agent\n转人工"),
           ("first_response", "1st reply\n首次响应"), ("handling", "handling\n处理时长"),
           ("resolution_rate", "resolved\n解决率"), ("bot_containment_rate", "bot only\n仅机器人"),
           ("satisfaction", "rating\n满意度"), ("sla_missed", "SLA miss\n超时"))
# per question type: what a shop asks of a kind of question
QUESTION_COLUMNS = (("conversations", "chats\n会话"), ("bot_containment_rate", "bot only\n仅机器人"),
                    ("first_response", "1st reply\n首次响应"), ("handling", "handling\n处理时长"),
                    ("satisfaction", "rating\n满意度"), ("reopen_rate", "reopened\n重复咨询"))
TREND_COLUMNS = (("conversations", "chats\n会话"), ("handed_over", "to agent\n转人工"),
                 ("bot_containment_rate", "bot only\n仅机器人"), ("first_response_avg_seconds", "1st reply\n首次响应"),
                 ("handling_avg_seconds", "handling\n处理时长"), ("satisfaction_average", "rating\n满意度"),
                 ("reopen_rate", "reopened\n重复咨询"), ("sla_missed", "SLA miss\n超时"))
TITLES = {"agent": ("per agent / 按客服", "agent\n客服"), "channel": ("per channel / 按渠道", "channel\n渠道"),
          "group": ("per group / 按分组", "group\n分组"), "category": ("per KB category / 按问题分类", "category\n分类"),
          "tag": ("per tag / 按标签", "tag\n标签")}
NONE_LABEL = {"category": "(none) / 未分类", "tag": "(none) / 无标签"}
LEGEND = ("times: average · p90; rating: average (ratings, share of closed) / "
          "时长：平均 · p90；满意度：平均分（评价数，占已结束会话比例）")
LABEL_WIDTH = 24  # at most: a longer name (a tag may be 32 characters) folds onto more lines
SPARKS = "▁▂▃▄▅▆▇█"
MAX_SPARK = 60  # marks in a trend line; a longer range puts several days in one mark


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


def rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def cell(key: str, value: Any) -> str:
    if key in ("first_response", "handling"):
        return f"{duration(value['avg_seconds'])} · {duration(value['p90_seconds'])}"
    if key == "satisfaction":
        if value["average"] is None:
            return "—"
        share = value["response_rate"]
        return f"{value['average']:.2f} ({value['responses']}, {share:.0%})" if share is not None \
            else f"{value['average']:.2f} ({value['responses']})"
    if key.endswith("_seconds"):
        return duration(value)
    if key.endswith("_rate"):
        return rate(value)
    if key == "satisfaction_average":
        return "—" if value is None else f"{value:.2f}"
    return str(value)


def grid(title: str | None, label: str, headers: list[str], labels: Sequence[str] = ()) -> Table:
    """A table that wraps rather than cuts: every column folds what does not fit. The first
    column keeps the width of its longest label (up to `LABEL_WIDTH`), so the figures wrap
    before a name does."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
                  collapse_padding=True)
    widest = max((cell_len(line) for text in (label, *labels) for line in text.splitlines()), default=1)
    table.add_column(label, overflow="fold", width=min(widest, LABEL_WIDTH))
    for header in headers:
        table.add_column(header, justify="right", overflow="fold")
    return table


def figures_table(title: str, label: str, rows: list[tuple[str, dict[str, Any]]],
                  columns: tuple[tuple[str, str], ...] = COLUMNS, extra: str | None = None) -> Table:
    table = grid(title, label, [header for _, header in columns] + ([extra] if extra else []),
                 [name for name, _ in rows])
    for name, row in rows:
        cells = [cell(key, row[key]) for key, _ in columns]
        table.add_row(escape(name), *cells, *([str(row.get("messages_sent", 0))] if extra else []))
    return table


def name_of(dim: str, entry: dict[str, Any]) -> str:
    if dim == "agent":
        return entry["agent"] or str(entry["agent_id"])
    if dim == "channel":
        return f"{entry['channel']}/{entry['account']}"
    return entry[dim] if entry[dim] is not None else NONE_LABEL.get(dim, "")


def breakdown_table(dim: str, entries: list[dict[str, Any]]) -> Table:
    title, label = TITLES[dim]
    rows = [(name_of(dim, entry), entry) for entry in entries]
    if dim in ("category", "tag"):
        return figures_table(title, label, rows, QUESTION_COLUMNS)
    return figures_table(title, label, rows, extra="msgs\n消息" if dim == "agent" else None)


def trend_table(trend: list[dict[str, Any]]) -> Table:
    table = grid("per day / 按日", "day\n日期", [header for _, header in TREND_COLUMNS], [day["day"] for day in trend])
    for day in trend:
        table.add_row(day["day"], *(cell(key, day[key]) for key, _ in TREND_COLUMNS))
    return table


def sparkline(counts: list[int]) -> str:
    """One mark per day (per few days when there are more than `MAX_SPARK`), height by volume."""
    width = -(-len(counts) // MAX_SPARK) if counts else 1
    buckets = [sum(counts[i:i + width]) for i in range(0, len(counts), width)]
    top = max(buckets, default=0)
    return "".join("·" if n == 0 else SPARKS[(n * (len(SPARKS) - 1)) // top] for n in buckets)


def daily_volume_table(dim: str, entries: list[dict[str, Any]], days: list[str]) -> Table:
    """Each category's (or tag's) conversations per day, as a line of marks over the range."""
    per_mark = -(-len(days) // MAX_SPARK) if days else 1
    span = f"{days[0]} → {days[-1]}" + (f", {per_mark} days a mark / 每格 {per_mark} 天" if per_mark > 1 else "")
    table = grid(f"daily chats / 每日会话 ({span})", TITLES[dim][1], ["chats\n会话", "peak\n峰值"],
                 [name_of(dim, entry) for entry in entries])
    table.add_column("trend\n趋势", overflow="fold")
    for entry in entries:
        counts = dict.fromkeys(days, 0) | {day["day"]: day["conversations"] for day in entry.get("trend") or []}
        peak = max(counts.items(), key=lambda item: item[1], default=("", 0))
        table.add_row(escape(name_of(dim, entry)), str(entry["conversations"]),
                      f"{peak[1]} ({peak[0][5:]})" if peak[1] else "—", sparkline(list(counts.values())))
    return table


def unanswered_table(groups: list[dict[str, Any]], zone: tzinfo) -> Table:
    labels = [f"{group['category'] if group['category'] is not None else NONE_LABEL['category']} ({group['count']})"
              for group in groups]
    table = grid("unanswered questions / 未解答的问题", "category\n分类", ["asked\n次数", "last\n最近"], labels)
    table.add_column("question\n问题", overflow="fold")
    for group, label in zip(groups, labels, strict=True):
        for number, question in enumerate(group["questions"]):
            table.add_row(escape(label) if number == 0 else "", str(question["count"]),
                          _when(question["last_seen"], zone), escape(question["text"]), end_section=False)
        if group["questions"]:
            table.rows[-1].end_section = True
    return table


def comments_table(comments: list[dict[str, Any]], zone: tzinfo) -> Table:
    times = [_when(comment["rated_at"], zone) for comment in comments]
    table = grid("latest comments / 最新评价", "rated\n评价时间", ["score\n评分", "conv.\n会话"], times)
    table.add_column("comment\n留言", overflow="fold")
    for comment, when in zip(comments, times, strict=True):
        table.add_row(when, f"{comment['score']}/5", f"#{comment['conversation_id']}",
                      Text(comment["comment"]))
    return table


def section_table(section: ReportSection, figures: dict[str, Any]) -> Table:
    """A plugin's figures (`csgw_report_sections`): one row per figure its labels name."""
    table = grid(section.title, "figure\n指标", ["value\n数值"], list(section.labels.values()))
    for key, label in section.labels.items():
        value = figures.get(key)
        table.add_row(escape(label), "—" if value is None else cell(key, value))
    return table


def _when(stamp: str | None, zone: tzinfo) -> str:
    return shop_time(datetime.fromisoformat(stamp), zone) if stamp else "—"


def report_views(figures: dict[str, Any], zone: tzinfo, *, trend: bool = False,
                 sections: Sequence[ReportSection] = ()) -> list[RenderableType]:
    """What `csgw report` prints, in order (tests render it at a width)."""
    by = figures.get("by")
    since, until = (shop_time(datetime.fromisoformat(figures[key]), zone) for key in ("since", "until"))
    views: list[RenderableType] = [Text(f"{since} → {until}"), Text(LEGEND, style="dim")]
    views.append(figures_table("total / 总计", "", [("all / 全部", figures["total"])],
                               QUESTION_COLUMNS if by in ("category", "tag") else COLUMNS))
    for dim in breakdowns_for(by):
        if dim == "group" and by is None and not figures["groups"]:
            continue
        views.append(breakdown_table(dim, figures[BREAKDOWNS[dim]]))
    if trend and figures.get("trend"):
        views.append(trend_table(figures["trend"]))
        if by in ("category", "tag") and figures[BREAKDOWNS[by]]:
            views.append(daily_volume_table(by, figures[BREAKDOWNS[by]], [day["day"] for day in figures["trend"]]))
    if figures.get("unanswered"):
        views.append(unanswered_table(figures["unanswered"], zone))
    if figures.get("latest_comments"):
        views.append(comments_table(figures["latest_comments"], zone))
    views += [section_table(section, figures[section.name]) for section in sections if figures.get(section.name)]
    return views


def report(
    since: str | None = typer.Option(None, "--since", help="from this ISO date/time (default: 30 days ago)"),
    until: str | None = typer.Option(None, "--until", help="up to this ISO date/time (default: now)"),
    by: str | None = typer.Option(None, "--by", help=f"only this breakdown: {', '.join(BREAKDOWNS)}"),
    trend: bool = typer.Option(False, "--trend", help="add the figures per day (the shop's days)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON document (the trend always in it)"),
    config: Path | None = ConfigOption,
) -> None:
    """Service figures: response times, resolution, bot containment, satisfaction; per agent,
    channel, KB category or tag / 服务指标."""
    settings = settings_or_exit(config)
    plugins = plugin_host_for(settings)
    sections = plugins.report_sections(settings)
    try:
        breakdowns_for(by)
        span = report_range(since, until, settings)
    except RangeError as error:
        fail(escape(str(error)))
    if trend and not as_json and shop_days(span.since, span.until, span.zone) is None:
        fail(f"--trend covers at most {MAX_TREND_DAYS} days: give a shorter range with --since/--until")
    figures = with_store(settings, lambda: service_report(span, by, trend=trend or as_json, sections=sections),
                         models=plugins.models())
    if as_json:
        dump_json(figures)
        return
    for view in report_views(figures, span.zone, trend=trend, sections=sections):
        out.print(view, highlight=False)

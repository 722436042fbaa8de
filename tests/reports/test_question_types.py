"""Figures per question type (KB category, tag), the trend per day in the shop's zone, the
questions left unanswered and the latest comments: in SQL on both engines, the API and the CLI,
whose tables fit 100 columns. The seed is `seed_question_types`; the numbers are worked out here."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from csgw.cli.main import app
from csgw.cli.report_cmd import report_views
from csgw.gateway.models import Agent, Conversation
from csgw.gateway.report_days import MAX_TREND_DAYS, shop_days
from csgw.gateway.reports import ReportRange, service_report
from csgw.gateway.storage.db import close_database, open_database
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent
from tests.reports.seed import H, T, seed_question_types
from tests.reports.seed import tag as put_tag
from tests.reports.test_export_import import config_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
SPAN = ReportRange(T - 24 * H, T + 24 * H)  # in UTC days
runner = CliRunner()


def keyed(entries: list[dict], key: str) -> dict:
    return {entry[key]: entry for entry in entries}


@pytest.fixture
async def seeded(database_url):
    await open_database(database_url)
    try:
        yield await seed_question_types()
    finally:
        await close_database()


async def test_figures_per_kb_category(seeded):
    report = await service_report(SPAN, "category")
    assert report["by"] == "category" and "agents" not in report and "tags" not in report
    categories = keyed(report["categories"], "category")
    assert [entry["category"] for entry in report["categories"]] == ["物流", "退款", None]  # most asked first
    logistics, refunds, other = categories["物流"], categories["退款"], categories[None]
    # 物流: conversations 1, 2 and 7; the bot alone served 1 and 7
    assert (logistics["conversations"], logistics["bot_contained"], logistics["bot_containment_rate"]) == (3, 2, 0.6667)
    assert logistics["first_response"] == {"count": 1, "avg_seconds": 120.0, "p90_seconds": 120.0}
    assert logistics["handling"]["avg_seconds"] == 660.0
    assert logistics["satisfaction"] == {"average": 4.5, "responses": 2, "response_rate": 1.0, "comments": 1}
    assert (logistics["closed"], logistics["reopened"], logistics["reopen_rate"]) == (2, 1, 0.5)  # 2 came back as 3
    # 退款: conversations 2 and 3, both with a person
    assert (refunds["conversations"], refunds["bot_containment_rate"]) == (2, 0.0)
    assert refunds["first_response"] == {"count": 2, "avg_seconds": 360.0, "p90_seconds": 600.0}
    assert refunds["handling"]["avg_seconds"] == 2100.0 and refunds["reopen_rate"] == 0.5
    assert refunds["satisfaction"]["average"] == 4.0
    # uncategorised: 4 (queued) and 6
    assert (other["conversations"], other["reopen_rate"], other["satisfaction"]["average"]) == (2, 0.0, 2.0)
    assert report["total"]["conversations"] == 6


async def test_figures_per_tag_count_every_source(seeded):
    report = await service_report(SPAN, "tag")
    volumes = {entry["tag"]: entry["conversations"] for entry in report["tags"]}
    assert volumes == {"物流": 3, "退款": 2, "急": 1, "投诉": 1, None: 1}
    assert keyed(report["tags"], "tag")["投诉"]["satisfaction"]["average"] == 2.0
    assert "categories" not in report and "unanswered" not in report


async def test_one_breakdown_by_agent_or_channel(seeded):
    agents = await service_report(SPAN, "agent")
    assert {entry["agent"] for entry in agents["agents"]} == {"alice", "bob"} and "channels" not in agents
    channels = await service_report(SPAN, "channel")
    assert {(c["channel"], c["conversations"]) for c in channels["channels"]} == {("webchat", 4), ("fake", 2)}
    default = await service_report(SPAN)
    assert default["by"] is None and {"agents", "channels", "groups"} <= default.keys()


async def test_trend_days_are_the_shop_s(seeded):
    in_utc = await service_report(SPAN, "category")
    assert [(day["day"], day["conversations"]) for day in in_utc["trend"]] == [("2026-01-09", 0), ("2026-01-10", 6)]
    in_shanghai = await service_report(ReportRange(SPAN.since, SPAN.until, zone=SHANGHAI), "category")
    # 16:30 UTC is 00:30 the next day in Shanghai: conversation 7 moves to 01-11
    assert [(day["day"], day["conversations"]) for day in in_shanghai["trend"]] == [
        ("2026-01-09", 0), ("2026-01-10", 5), ("2026-01-11", 1)]
    logistics = keyed(in_shanghai["categories"], "category")["物流"]
    assert [(day["day"], day["conversations"], day["bot_contained"]) for day in logistics["trend"]] == [
        ("2026-01-10", 2, 1), ("2026-01-11", 1, 1)]
    ten = in_shanghai["trend"][1]
    assert (ten["first_response_avg_seconds"], ten["satisfaction_average"], ten["reopen_rate"]) == (250.0, 3.67, 0.25)
    year_and_more = await service_report(ReportRange(T - (MAX_TREND_DAYS + 1) * 24 * H, T + H))
    assert year_and_more["trend"] is None and year_and_more["total"]["conversations"] == 3  # 1, 2 and 5


def test_shop_days_follow_daylight_saving():
    berlin = ZoneInfo("Europe/Berlin")  # clocks go forward on 2026-03-29
    days = shop_days(datetime(2026, 3, 28, tzinfo=berlin), datetime(2026, 3, 31, tzinfo=berlin), berlin)
    assert days is not None and [str(day) for day in days.days] == ["2026-03-28", "2026-03-29", "2026-03-30"]
    assert [b - a for a, b in zip(days.starts, days.starts[1:], strict=False)] == [timedelta(hours=24), timedelta(hours=23)]
    assert days.starts[0] == datetime(2026, 3, 27, 23, tzinfo=UTC)
    assert shop_days(T, T + timedelta(days=MAX_TREND_DAYS + 1), UTC) is None


async def test_unanswered_questions_per_category(seeded):
    report = await service_report(SPAN, "category")
    found = {entry["category"]: entry for entry in report["unanswered"]}
    assert [entry["category"] for entry in report["unanswered"]] == ["物流", None, "退款"]
    # width, spaces and punctuation do not make another question; the latest wording is shown
    assert [(q["text"], q["count"]) for q in found["物流"]["questions"]] == [("运费 怎么算", 2), ("运费险怎么赔", 1)]
    assert found["物流"]["count"] == 3  # the one asked before the range is not
    assert [(q["text"], q["count"]) for q in found[None]["questions"]] == [("能开发票吗", 3)]  # "2" is a menu choice
    assert found["退款"]["questions"][0]["last_seen"] == (T + H + timedelta(minutes=1)).isoformat()


async def test_latest_comments_newest_first(seeded):
    report = await service_report(SPAN)
    assert [(c["conversation_id"], c["score"], c["comment"]) for c in report["latest_comments"]] == [
        (seeded["c6"].id, 2, "等太久了"), (seeded["c2"].id, 4, "回复很快，谢谢")]
    assert report["total"]["satisfaction"]["comments"] == 2


def rendered(views, width: int = 100) -> str:
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    for view in views:
        console.print(view, highlight=False)
    return console.export_text()


async def test_every_table_fits_100_columns_and_nothing_is_cut(seeded):
    long_tag = "售后服务/退换货/尺码不合适的鞋子需要重新寄回仓库检查"  # 27 characters, 54 columns
    await seed_long_names(long_tag)
    for by in (None, "category", "tag", "agent", "channel", "group"):
        report = await service_report(ReportRange(SPAN.since, SPAN.until, zone=SHANGHAI), by)
        text = rendered(report_views(report, SHANGHAI, trend=True))
        lines = text.splitlines()
        assert max(cell_len(line) for line in lines) <= 100, (by, text)
        assert "…" not in text, (by, text)
    text = rendered(report_views(await service_report(SPAN, "tag"), UTC, trend=True))
    assert "售后服务/退换货" in text and "检查" in text  # its first and last words: folded onto more lines, not cut




async def seed_long_names(tag: str) -> None:
    agent = await Agent.create(name="a-very-long-agent-name-that-goes-on-and-on")
    talk = await Conversation.filter(agent_id__isnull=False).first()
    await Conversation.filter(id=talk.id).update(agent_id=agent.id, group="一个名字很长很长的售后分组")
    await put_tag(talk.id, tag, "agent")


async def test_reports_api_by(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url) as gw, aiohttp.ClientSession() as session:
        await seed_question_types()
        _, token = await add_agent("carol")
        client = AgentClient(session, gw.url, token)
        query = f"since={SPAN.since.isoformat()}&until={SPAN.until.isoformat()}".replace("+", "%2B")
        body = await client.call("GET", f"/reports?{query}&by=category", expect=200)
        assert [entry["category"] for entry in body["categories"]] == ["物流", "退款", None]
        assert body["unanswered"][0]["category"] == "物流" and len(body["trend"]) == 2
        tags = await client.call("GET", f"/reports?{query}&by=tag", expect=200)
        assert {entry["tag"] for entry in tags["tags"]} == {"物流", "退款", "急", "投诉", None}
        bad = await client.call("GET", "/reports?by=product", expect=400)
        assert bad["error"]["code"] == "bad_by" and "category" in bad["error"]["message"]
        assert (await client.call("GET", "/reports?by=", expect=400))["error"]["code"] == "bad_by"
        twice = await client.call("GET", "/reports?by=tag&by=category", expect=400)
        assert twice["error"]["code"] == "repeated_parameter"
        async with session.get(gw.url + "/api/v1/openapi.json") as response:
            parameters = (await response.json())["paths"]["/api/v1/reports"]["get"]["parameters"]
        [by] = [parameter for parameter in parameters if parameter["name"] == "by"]
        assert by["schema"] == {"type": "string", "enum": ["agent", "channel", "group", "category", "tag"]}


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


async def seeded_store(url: str) -> None:
    await open_database(url)
    try:
        await seed_question_types()
    finally:
        await close_database()


def test_report_command_by_category_with_trend(tmp_path, database_url):
    asyncio.run(seeded_store(database_url))
    config = config_for(tmp_path, "shop", database_url)
    window = ("--since", "2026-01-09T00:00:00+00:00", "--until", "2026-01-11T00:00:00+00:00")
    shown = run("report", "--by", "category", "--trend", *window, "--config", config)
    assert shown.exit_code == 0, shown.output
    for expected in ("per KB category / 按问题分类", "物流", "退款", "per day / 按日", "daily chats / 每日会话",
                     "unanswered questions / 未解答的问题", "运费险怎么赔", "latest comments / 最新评价", "等太久了"):
        assert expected in shown.output, expected
    assert "per agent" not in shown.output
    default = run("report", *window, "--config", config)
    assert default.exit_code == 0 and "per agent / 按客服" in default.output and "per day" not in default.output
    as_json = json.loads(run("report", "--by", "tag", "--json", *window, "--config", config).output)
    assert as_json["by"] == "tag" and len(as_json["trend"]) == 2 and as_json["tags"][0]["trend"]
    wrong = run("report", "--by", "product", "--config", config)
    assert wrong.exit_code == 2 and "by is one of agent, channel, group, category, tag" in wrong.output
    too_long = run("report", "--trend", "--since", "2024-01-01", "--until", "2026-01-11", "--config", config)
    assert too_long.exit_code == 2 and "at most 366 days" in too_long.output

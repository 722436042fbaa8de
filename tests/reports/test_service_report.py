"""Service figures on a seeded store, checked against numbers worked out by hand."""

from __future__ import annotations

import aiohttp
import pytest

from csgw.gateway.reports import RangeError, ReportRange, report_range, service_report
from csgw.gateway.storage.db import close_database, open_database
from csgw.testing import make_settings, running_gateway
from tests.gateway.helpers import AgentClient, add_agent
from tests.reports.seed import H, T, seed

SPAN = ReportRange(T - 24 * H, T + 24 * H, reopen_hours=24)  # the default waiting limits: 600 s at priority 0


def by(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows}


@pytest.fixture
async def seeded(database_url):
    await open_database(database_url)
    try:
        yield await seed()
    finally:
        await close_database()


async def test_totals_match_the_hand_computed_figures(seeded):
    report = await service_report(SPAN)
    total = report["total"]
    assert total["conversations"] == 5 and total["handed_over"] == 4
    assert total["first_response"] == {"count": 3, "avg_seconds": 250.0, "p90_seconds": 600.0}
    assert total["handling"] == {"count": 3, "avg_seconds": 1500.0, "p90_seconds": 3540.0}
    assert (total["closed"], total["resolved"], total["resolution_rate"]) == (4, 3, 0.75)
    assert (total["bot_answered"], total["bot_contained"], total["bot_containment_rate"]) == (2, 1, 0.2)
    assert total["satisfaction"] == {"average": 3.67, "responses": 3, "response_rate": 0.75, "comments": 0}
    assert (total["reopened"], total["reopen_rate"]) == (1, 0.25)
    assert total["sla_missed"] == 2


async def test_per_agent_channel_and_group(seeded):
    report = await service_report(SPAN)
    agents = by(report["agents"], "agent")
    alice, bob = agents["alice"], agents["bob"]
    assert alice["conversations"] == 2 and alice["messages_sent"] == 3
    assert alice["first_response"] == {"count": 2, "avg_seconds": 75.0, "p90_seconds": 120.0}
    assert alice["handling"] == {"count": 2, "avg_seconds": 480.0, "p90_seconds": 660.0}
    assert (alice["resolution_rate"], alice["satisfaction"]["average"], alice["sla_missed"]) == (0.5, 3.0, 0)
    assert bob["conversations"] == 1 and bob["messages_sent"] == 1 and bob["sla_missed"] == 1
    assert bob["first_response"]["avg_seconds"] == 600.0 and bob["resolution_rate"] == 1.0
    channels = {(c["channel"], c["account"]): c["conversations"] for c in report["channels"]}
    assert channels == {("webchat", "default"): 3, ("fake", "a"): 2}
    groups = by(report["groups"], "group")
    assert groups["sales"]["conversations"] == 2 and groups["sales"]["bot_contained"] == 1
    assert groups["support"]["conversations"] == 1 and groups["support"]["sla_missed"] == 1


async def test_reopen_window_and_range_edges(seeded):
    short = await service_report(ReportRange(T - 24 * H, T + 24 * H, reopen_hours=0.5))
    assert short["total"]["resolved"] == 4  # customer 2 came back after 47 min, outside a 30 min window
    later = await service_report(ReportRange(T + H, T + 24 * H))
    assert later["total"]["conversations"] == 3  # the range includes its start and excludes its end
    empty = await service_report(ReportRange(T + 48 * H, T + 72 * H))
    assert empty["total"]["conversations"] == 0 and empty["total"]["resolution_rate"] is None


def test_report_range_parsing(tmp_path):
    settings = make_settings(tmp_path, health={"report_reopen_hours": 12})
    span = report_range("2026-01-01", "2026-01-02T00:00:00+00:00", settings)
    assert span.reopen_hours == 12 and span.until.isoformat() == "2026-01-02T00:00:00+00:00"
    with pytest.raises(RangeError, match="since"):
        report_range("last week", None, settings)
    with pytest.raises(RangeError, match="before"):
        report_range("2026-01-02", "2026-01-01", settings)


async def test_reports_api(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url) as gw, aiohttp.ClientSession() as session:
        await seed()
        _, token = await add_agent("carol")
        client = AgentClient(session, gw.url, token)
        query = f"/reports?since={SPAN.since.isoformat()}&until={SPAN.until.isoformat()}".replace("+", "%2B")
        body = await client.call("GET", query, expect=200)
        assert body["total"]["conversations"] == 5 and body["total"]["sla_missed"] == 2
        bad = await client.call("GET", "/reports?since=yesterday", expect=422)
        assert bad["error"]["code"] == "bad_range"
        async with session.get(gw.url + "/api/v1/reports") as response:
            assert response.status == 401
        # customers' comments and every agent's figures are a supervisor's to read
        _, agent_token = await add_agent("dan", role="agent")
        refused = await AgentClient(session, gw.url, agent_token).call("GET", query, expect=403)
        assert refused["error"]["code"] == "forbidden" and "supervisor" in refused["error"]["message"]
        async with session.get(gw.url + "/api/v1/openapi.json") as response:
            assert "get" in (await response.json())["paths"]["/api/v1/reports"]

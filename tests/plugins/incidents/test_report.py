"""The service report counts incidents opened in its range: how many, the customers they reached,
how soon a broadcast answered, how they ended; in `GET /api/v1/reports` and `csgw report`."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from rich.console import Console
from typer.testing import CliRunner

from csgw.cli.main import app
from csgw.cli.report_cmd import report_views
from csgw.gateway.clock import now
from csgw.gateway.testing import FakeClock
from csgw.plugins.incidents.models import Incident
from csgw.plugins.incidents.report import IncidentFigures
from tests.plugins.incidents.shop import BROADCAST, incident_shop
from tests.reports.test_export_import import config_for

EXPECTED = {"opened": 2, "customers": 22, "broadcast": 1, "time_to_broadcast_avg_seconds": 300.0,
            "time_to_broadcast_max_seconds": 300.0, "closed_by_hand": 1, "closed_when_quiet": 0, "open": 1,
            "by_kind": {"entry": 1, "unanswered": 0, "lane": 1}}


async def two_incidents(tmp_path, database_url: str, clock: FakeClock) -> dict:
    """One entry incident (12 customers) broadcast after five minutes and closed by hand; one lane
    incident (10); the report of the range that holds them, through the API."""
    async with incident_shop(tmp_path, database_url=database_url, clock=clock,
                             incidents={"entry": {"min_customers": 12}}) as shop:
        await shop.burst("下单后多久发货", range(12))
        await shop.burst("我要投诉", range(10), prefix="angry")
        entry = await Incident.get(kind="entry")
        clock.advance(minutes=5)
        await shop.supervisor.call("POST", f"/incidents/{entry.id}/broadcast", {"text": BROADCAST}, expect=200)
        await shop.supervisor.call("POST", f"/incidents/{entry.id}/close", expect=200)
        since, until = (clock.at - timedelta(hours=1)).isoformat(), (clock.at + timedelta(hours=1)).isoformat()
        query = f"since={since}&until={until}".replace("+", "%2B")
        report = await shop.supervisor.call("GET", f"/reports?{query}", expect=200)
        earlier = (clock.at - timedelta(days=3)).isoformat().replace("+", "%2B")
        before = await shop.supervisor.call("GET", f"/reports?until={earlier}", expect=200)
        assert before["incidents"]["opened"] == 0 and before["incidents"]["time_to_broadcast_avg_seconds"] is None
        return report


async def test_the_reports_api_counts_incidents(tmp_path, database_url):
    report = await two_incidents(tmp_path, database_url, FakeClock(now()))
    assert report["incidents"] == EXPECTED


def test_csgw_report_prints_and_dumps_them(tmp_path):
    url = f"sqlite://{tmp_path}/csgw.db"
    clock = FakeClock(now())
    asyncio.run(two_incidents(tmp_path, url, clock))
    config = config_for(tmp_path, "shop", url)
    window = ("--since", (clock.at - timedelta(hours=1)).isoformat(), "--until", (clock.at + timedelta(hours=1)).isoformat())
    dumped = CliRunner().invoke(app, ["report", "--json", *window, "--config", config], catch_exceptions=False)
    assert dumped.exit_code == 0, dumped.output
    assert json.loads(dumped.output)["incidents"] == EXPECTED
    console = Console(width=100, record=True)
    for view in report_views({**json.loads(dumped.output)}, clock.at.tzinfo, sections=[IncidentFigures()]):
        console.print(view)
    shown = console.export_text()
    for expected in ("incidents / 突发事件", "customers", "涉及客户", "to broadcast, avg", "5.0m"):
        assert expected in shown, expected
    printed = CliRunner().invoke(app, ["report", *window, "--config", config], catch_exceptions=False)
    assert printed.exit_code == 0 and "incidents / 突发事件" in printed.output and "22" in printed.output

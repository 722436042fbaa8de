"""`/metrics` read back with prometheus-client's parser; `csgw health` JSON, table and exit codes."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from csgw.cli.health_cmd import sparkline
from csgw.cli.main import app
from csgw.gateway.channel import InboundMessage
from csgw.testing import running_gateway

CALM = {"cpu_degraded_percent": 1000, "cpu_down_percent": 1000, "memory_degraded_percent": 1000,
        "memory_down_percent": 1000, "disk_free_degraded_mb": 0, "disk_free_down_mb": 0,
        # the test process's own size after a long run is not what these tests test
        "rss_degraded_mb": 10**9, "rss_down_mb": 10**9,
        "loop_lag_degraded_ms": 60_000, "loop_lag_down_ms": 60_000, "history_interval_seconds": 0.001,
        # a busy machine's fsync can take longer than the default 200 ms: not what these tests test
        "database_roundtrip_degraded_ms": 60_000, "database_roundtrip_down_ms": 60_000,
        "report_max_age_seconds": 0}  # these tests change thresholds and want the next report


def samples(text: str) -> dict[str, list]:
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


async def test_metrics_parse_with_channel_labels(tmp_path):
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"},
                                                   {"plugin": "fake", "account": "b"}], health=CALM) as gw:
        await gw.services.accept(InboundMessage("fake", "a", "u1", "你好", "m1"))
        gw.fake("b").stats.set_connected(False)
        async with aiohttp.ClientSession() as session, session.get(gw.url + "/metrics") as response:
            assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
            found = samples(await response.text())
    assert all(name.startswith("csgw_") for name in found)
    assert found["csgw_health_status"][0].value == 2  # account b is down
    status = {s.labels["check"]: s.value for s in found["csgw_check_status"]}
    assert status["channel:fake/a"] == 0 and status["channel:fake/b"] == 2
    connected = {(s.labels["channel"], s.labels["account"]): s.value for s in found["csgw_channel_connected"]}
    assert connected == {("fake", "b"): 0}
    inbound = {s.labels["account"]: s.value for s in found["csgw_channel_inbound_per_minute"]}
    assert inbound["a"] > 0 and inbound.get("b", 0) == 0
    for name in ("csgw_event_loop_lag_seconds", "csgw_cpu_percent", "csgw_process_resident_memory_bytes",
                 "csgw_disk_free_bytes", "csgw_database_size_bytes", "csgw_database_write_seconds",
                 "csgw_open_connections", "csgw_widget_sockets", "csgw_outbox_pending"):
        assert name in found, name
    assert found["csgw_database_size_bytes"][0].value > 0
    # The message (and its reply) went through the writer before the report was taken.
    assert found["csgw_writer_jobs"][0].value >= found["csgw_writer_commits"][0].value >= 1


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


async def test_health_command_exit_codes_json_and_trend(tmp_path):
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}], health=CALM) as gw:
        healthy = await asyncio.to_thread(invoke, "health", "--url", gw.url, "--json")
        report = json.loads(healthy.stdout)
        assert healthy.exit_code == 0 and report["status"] == "ok" and report["history"], report
        assert {"database", "outbox", "channel:fake/a", "event_loop", "cpu", "memory", "disk",
                "connections"} <= {c["name"] for c in report["checks"]}
        table = await asyncio.to_thread(invoke, "health", "--url", gw.url)
        assert table.exit_code == 0 and "channel:fake/a" in table.stdout and "trend" in table.stdout
        gw.services.settings.health.disk_free_degraded_mb = 10**12
        assert (await asyncio.to_thread(invoke, "health", "--url", gw.url)).exit_code == 1
        gw.services.settings.health.disk_free_down_mb = 10**12
        down = await asyncio.to_thread(invoke, "health", "--url", gw.url, "--json")
        assert down.exit_code == 2 and json.loads(down.stdout)["status"] == "down"


def test_sparkline_scales_and_keeps_gaps():
    assert sparkline([0, 5, 10]) == "▁▄█"
    assert sparkline([3, None, 3]) == "▁ ▁"
    assert sparkline([None]) == ""


async def test_open_widget_sockets_are_counted_through_the_channel_api(tmp_path):
    from csgw.app import MONITOR
    from tests.gateway.helpers import Visitor, wait_for_condition

    async with running_gateway(tmp_path, channels=[{"plugin": "webchat", "account": "default"}]) as gw, \
            aiohttp.ClientSession() as session:
        visitors = [await Visitor(session, gw.url, f"visitor-000{n}").connect() for n in range(2)]
        connections = next(c for c in (await gw.server.app[MONITOR].report())["checks"] if c["name"] == "connections")
        assert connections["detail"]["widget_sockets"] == 2
        await visitors[0].ws.close()

        async def one_left() -> bool:
            return gw.services.channel("webchat", "default").client_connections() == 1

        await wait_for_condition(one_left)

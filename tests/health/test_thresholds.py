"""Health grading against a running gateway: a platform going down and back, injected loop lag,
a channel whose stats fail, sync lag, the history ring, and state-change hooks."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from csgw.app import MONITOR
from csgw.gateway.channel import InboundMessage
from csgw.gateway.clock import now
from csgw.gateway.connection_stats import ConnectionStats
from csgw.gateway.hookspecs import hookimpl
from csgw.health.checks import grade, graded
from csgw.testing import running_gateway
from tests.gateway.helpers import wait_for_condition


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.at = start

    def __call__(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


class Changes:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    @hookimpl
    def csgw_health_changed(self, services, check, old, new, detail):
        self.seen.append((check, old, new))


def check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


def test_grade_and_graded_edges():
    assert [grade(v, 10, 20) for v in (9.9, 10, 19.9, 20)] == ["ok", "degraded", "degraded", "down"]
    assert [grade(v, 100, 10, higher_is_worse=False) for v in (101, 100, 10)] == ["ok", "degraded", "down"]
    assert graded("x", 1, 10, 20, status="down").status == "down"
    assert graded("x", 15, 10, 20, status="ok").status == "degraded"


def test_connection_stats_window_and_reconnects():
    clock = FakeClock()
    stats = ConnectionStats(window_seconds=60, clock=clock)
    stats.set_connected(True)
    stats.failure("timeout", "45009")
    stats.set_connected(False)
    stats.set_connected(True)
    stats.success()
    assert stats.counts() == {"success": 1, "failure": 1, "reconnect": 1}
    assert stats.as_dict()["last_error_code"] == "45009"
    clock.advance(61)
    assert stats.window() == (0, 0) and stats.reconnects == 1 and stats.as_dict()["reconnects_recent"] == 0


async def test_platform_down_and_back(tmp_path):
    changes = Changes()
    clock = FakeClock()
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}],
                               extra_plugins=[("changes", changes)]) as gw:
        monitor = gw.server.app[MONITOR]
        stats = gw.fake("a").stats
        stats.clock = clock
        assert check(await monitor.report(), "channel:fake/a")["status"] == "ok"
        for _ in range(5):
            stats.failure("platform unreachable", "-1")
        stats.set_connected(False)
        down = check(await monitor.report(), "channel:fake/a")
        assert down["status"] == "down" and down["value"] == 1.0
        assert down["detail"]["last_error_code"] == "-1" and down["detail"]["connected"] is False
        clock.advance(stats.window_seconds + 1)  # the failures age out of the window
        stats.set_connected(True)
        for _ in range(9):
            stats.success()
        stats.failure("one blip")
        back = check(await monitor.report(), "channel:fake/a")
        assert back["status"] == "ok" and back["value"] == 0.1 and back["detail"]["reconnects_recent"] == 1
        assert ("channel:fake/a", "ok", "down") in changes.seen and ("channel:fake/a", "down", "ok") in changes.seen


async def test_injected_loop_lag_degrades_then_recovers(tmp_path):
    async with running_gateway(tmp_path, health={"loop_lag_degraded_ms": 150, "loop_lag_down_ms": 5000}) as gw:
        monitor = gw.server.app[MONITOR]
        time.sleep(0.4)  # block the event loop on purpose: this is the lag being measured

        async def lagging() -> bool:
            return check(await monitor.report(), "event_loop")["status"] == "degraded"

        await wait_for_condition(lagging, timeout=5)

        async def recovered() -> bool:
            return check(await monitor.report(), "event_loop")["status"] == "ok"

        await wait_for_condition(recovered, timeout=15, interval=0.1)


async def test_a_channel_whose_stats_fail_is_down_alone(tmp_path):
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"},
                                                   {"plugin": "fake", "account": "b"}]) as gw:
        def broken() -> dict:
            raise RuntimeError("stats unavailable")

        gw.fake("b").health_detail = broken
        report = await gw.server.app[MONITOR].report()
        assert check(report, "channel:fake/a")["status"] == "ok"
        failed = check(report, "channel:fake/b")
        assert failed["status"] == "down" and "stats unavailable" in failed["detail"]["error"]
        assert report["status"] == "down"


async def test_sync_lag_rates_and_failed_sends(tmp_path):
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a", "fail_permanently": True,
                                                    "fail_code": "45015"}],
                               health={"sync_lag_degraded_seconds": 30, "sync_lag_down_seconds": 600,
                                       "send_failures_down": 100, "channel_failure_ratio_degraded": 2,
                                       "channel_failure_ratio_down": 2}) as gw:
        late = now() - timedelta(seconds=90)
        for index in range(3):
            await gw.services.accept(InboundMessage("fake", "a", f"u{index}", "在吗", f"m{index}", platform_ts=late))
        monitor = gw.server.app[MONITOR]

        async def failed_send() -> bool:
            return check(await monitor.report(), "channel:fake/a")["detail"]["sends_failed"] >= 1

        await wait_for_condition(failed_send)
        result = check(await monitor.report(), "channel:fake/a")
        detail = result["detail"]
        assert result["status"] == "degraded" and 89 <= detail["sync_lag_seconds"] < 120
        assert detail["inbound_per_minute"] == round(3 * 60 / 300, 2) and detail["outbound_per_minute"] > 0
        assert detail["last_error_code"] == "45015"


async def test_history_ring_keeps_one_sample_per_interval(tmp_path):
    async with running_gateway(tmp_path, health={"history_interval_seconds": 60, "history_size": 3}) as gw:
        monitor = gw.server.app[MONITOR]
        clock = FakeClock()
        monitor.clock = clock
        for _ in range(5):
            report = await monitor.report()
            clock.advance(30)
        assert [s["at"] for s in report["history"]] == [clock.at - 150, clock.at - 90, clock.at - 30]
        assert {"status", "loop_lag_ms", "cpu_percent", "outbox_pending", "sync_lag_seconds"} <= set(report["history"][-1])


async def test_monitor_checks_by_itself(tmp_path):
    changes = Changes()
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}],
                               extra_plugins=[("changes", changes)], health={"check_interval_seconds": 0.05}) as gw:
        await wait_for_condition(lambda: asyncio.sleep(0, bool(gw.server.app[MONITOR].history)))
        gw.fake("a").stats.set_connected(False)
        await wait_for_condition(lambda: asyncio.sleep(0, ("channel:fake/a", "ok", "down") in changes.seen))


async def test_a_busy_host_degrades_the_cpu_check_but_never_downs_it(monkeypatch):
    from csgw.config.schema import HealthSettings
    from csgw.health.checks import CpuCheck

    cpu = CpuCheck(HealthSettings())
    cpu.MIN_INTERVAL = 0.0
    monkeypatch.setattr("psutil.cpu_percent", lambda interval=None: 100.0)
    result = await cpu.run()
    assert result.value == 100.0 and result.status == "degraded"
    monkeypatch.setattr("psutil.cpu_percent", lambda interval=None: 10.0)
    assert (await cpu.run()).status == "ok"


async def test_probes_share_one_run_of_the_checks_and_liveness_is_cheap(tmp_path):
    import aiohttp

    async with running_gateway(tmp_path, health={"report_max_age_seconds": 60}) as gw, \
            aiohttp.ClientSession() as session:
        monitor = gw.server.app[MONITOR]
        runs = 0
        real = monitor.report

        async def counted() -> dict:
            nonlocal runs
            runs += 1
            return await real()

        monitor.report = counted
        monitor._latest = None

        async def probe(path: str) -> int:
            async with session.get(gw.url + path) as response:
                return response.status

        statuses = await asyncio.gather(*(probe("/healthz") for _ in range(20)))
        assert statuses == [200] * 20 and runs == 1  # a flood of probes: the checks ran once
        assert await probe("/readyz") == 200 and runs == 1
        assert await probe("/livez") == 200
        gw.services.stopping = True  # a stop has begun: the load balancer should look elsewhere
        assert await probe("/readyz") == 503 and await probe("/livez") == 200
        gw.services.stopping = False


async def test_health_details_are_for_the_machine_itself_and_supervisors(tmp_path):
    import aiohttp

    from tests.gateway.helpers import add_agent

    far = {"X-Forwarded-For": "203.0.113.7"}  # a client on the internet, through the TLS proxy
    async with running_gateway(tmp_path, server={"behind_tls_proxy": True}) as gw, \
            aiohttp.ClientSession() as session:
        _, boss = await add_agent("boss")
        _, clerk = await add_agent("clerk", role="agent")

        async def report(headers: dict) -> dict:
            async with session.get(gw.url + "/healthz", headers=headers) as response:
                return await response.json()

        local = await report({})
        assert any("detail" in check for check in local["checks"])
        public = await report(far)
        assert public["status"] == local["status"] and {c["name"] for c in public["checks"]} >= {"database"}
        assert all(set(check) == {"name", "status"} for check in public["checks"]) and "history" not in public
        assert all(set(c) == {"name", "status"} for c in (await report({**far, "Authorization": f"Bearer {clerk}"}))["checks"])
        supervised = await report({**far, "Authorization": f"Bearer {boss}"})
        assert any("detail" in check for check in supervised["checks"])

"""Three real `csgw serve` processes on one PostgreSQL: each timer is led by one instance at a time,
and when that instance is killed (SIGKILL) another takes the timer over within seconds."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.cli.server_process import ServerProcess
from tests.cluster.conftest import three_instances
from tests.conftest import POSTGRES_URL

TIMER = "assignment"


def leading(server: ServerProcess) -> bool | None:
    """Whether the instance's log says it leads the assignment timer now (None: it has not said)."""
    found = None
    for line in server.log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("timer") == TIMER:
            found = entry.get("event") == "timer leads here"
    return found


def wait_logged(servers: list[ServerProcess], holds, timeout: float = 15) -> float:
    """Seconds until `holds(states)` over what the instances logged (read from files another process
    writes: polled, bounded by the timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if holds([leading(server) for server in servers]):
            return time.monotonic() - started
        time.sleep(0.02)
    raise TimeoutError([leading(server) for server in servers])


@pytest.fixture(params=["postgres"] if POSTGRES_URL else [])
async def servers(tmp_path: Path) -> AsyncIterator[list[ServerProcess]]:
    async with three_instances(tmp_path, "[assignment]\ntick_seconds = 0.2\n") as started:
        yield started


def test_one_instance_runs_a_timer_and_another_takes_over_when_it_is_killed(servers):
    # every instance has ticked (said whether it leads), and exactly one leads
    wait_logged(servers, lambda states: None not in states and states.count(True) == 1)
    leader = next(server for server in servers if leading(server))
    others = [server for server in servers if server is not leader]
    leader.kill()
    took = wait_logged(others, lambda states: states.count(True) == 1)
    assert took < 5  # the next tick (0.2 s) after PostgreSQL ended the dead session: 0.06-0.12 s measured

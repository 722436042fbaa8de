"""`csgw serve` and stop signals: a drain finishes what is under way and exits 0; a second signal
cuts it short; a hung drain (the database's thread wedged) still ends within the grace period."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import aiohttp

from tests.cli.server_process import ServerProcess, write_config

PLUGIN = Path(__file__).parents[1] / "plugins" / "fixtures" / "slow_drain_plugin.py"
EXIT_LIMIT = 20  # generous: the bound under test is the grace period, not this machine's speed


def start(tmp_path: Path, grace: float, hang: bool = False) -> ServerProcess:
    config = write_config(tmp_path, f'[plugins]\npaths = ["{PLUGIN}"]\n[reply.engine]\nmodel = "off"\n')
    text = config.read_text(encoding="utf-8").replace(
        "[server]\n", f"[server]\nshutdown_grace_seconds = {grace}\n", 1)
    config.write_text(text, encoding="utf-8")
    server = ServerProcess(config)
    os.environ["CSGW_TEST_HANG_SHUTDOWN"] = "1" if hang else "0"
    try:
        return server.start()
    finally:
        del os.environ["CSGW_TEST_HANG_SHUTDOWN"]


def log_events(server: ServerProcess) -> list[str]:
    return [json.loads(line)["event"] for line in server.log.read_text().splitlines() if line.startswith("{")]


def wait_for_log(server: ServerProcess, event: str, timeout: float = EXIT_LIMIT) -> None:
    deadline = time.monotonic() + timeout
    while event not in log_events(server):
        assert time.monotonic() < deadline, f"no {event!r} in the log"
        time.sleep(0.05)  # polls another process's log file, bounded by the deadline


def exit_code(server: ServerProcess, limit: float = EXIT_LIMIT) -> int:
    try:
        return server.process.wait(limit)
    except subprocess.TimeoutExpired:
        server.stop()
        raise AssertionError(f"csgw serve still running {limit} s after the signal") from None


async def test_sigterm_lets_a_request_under_way_finish_and_exits_zero(tmp_path):
    server = start(tmp_path, grace=10)
    try:
        async with aiohttp.ClientSession() as session, \
                session.get(f"{server.url}/test/hold", params={"seconds": "1"}) as response:
            assert await response.content.readline() == b"started\n"  # under way
            server.process.send_signal(signal.SIGTERM)
            assert await response.content.readline() == b"done\n"
        assert await asyncio.to_thread(exit_code, server) == 0
        events = log_events(server)
        assert "gateway stopped" in events and "drain cut short by a second signal" not in events
    finally:
        server.stop()


def test_a_second_signal_cuts_a_hung_drain_short(tmp_path):
    server = start(tmp_path, grace=120, hang=True)  # only the second signal can end it early
    try:
        server.process.send_signal(signal.SIGTERM)
        wait_for_log(server, "stopping: draining work under way")
        server.process.send_signal(signal.SIGINT)
        assert exit_code(server) == 0
        assert "drain cut short by a second signal" in log_events(server)
    finally:
        server.stop()


def test_a_hung_drain_ends_within_the_grace_period(tmp_path):
    server = start(tmp_path, grace=3, hang=True)
    try:
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert exit_code(server) == 0
        assert time.monotonic() - signalled < EXIT_LIMIT
        assert "drain cut short: the grace period is over" in log_events(server)
    finally:
        server.stop()


async def test_two_sigterms_during_a_drain_never_hang(tmp_path):
    for attempt in range(3):  # it used to hang in two of three tries
        (tmp_path / str(attempt)).mkdir()
        server = start(tmp_path / str(attempt), grace=3)
        try:
            async with aiohttp.ClientSession() as session, \
                    session.get(f"{server.url}/test/hold", params={"seconds": "60"}) as response:
                assert await response.content.readline() == b"started\n"  # a drain will have work
                server.process.send_signal(signal.SIGTERM)
                server.process.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(exit_code, server) == 0
        finally:
            server.stop()

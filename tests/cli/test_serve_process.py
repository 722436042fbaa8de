"""`csgw serve` as a real process: SIGKILL under load loses nothing, SIGTERM drains and exits 0."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys

import aiohttp
import pytest

from tests.cli.server_process import ServerProcess, write_config

MESSAGES = 60


@pytest.fixture
def server(tmp_path):
    process = ServerProcess(write_config(tmp_path))
    yield process
    process.stop()


async def flood(url: str, visitors: int = 6) -> list[int]:
    """Each visitor sends its share as fast as acks come back; returns the acknowledged ids."""
    acked: list[int] = []
    async with aiohttp.ClientSession() as session:
        async def visitor(n: int) -> None:
            async with session.ws_connect(f"{url}/widget/ws", params={"site": "default", "visitor": f"visitor-{n:04d}"}) as ws:
                await ws.receive_json()  # hello
                for i in range(MESSAGES // visitors):
                    await ws.send_json({"type": "message", "client_id": f"m{i}", "text": "下单后多久发货"})
                    while True:
                        frame = await ws.receive_json()
                        if frame["type"] == "ack":
                            acked.append(frame["id"])
                            break

        await asyncio.gather(*(visitor(n) for n in range(visitors)))
    return acked


def rows(db, query: str, *args):
    with sqlite3.connect(db) as connection:
        return connection.execute(query, args).fetchall()


async def test_sigkill_under_load_loses_nothing_and_answers_once(server, tmp_path):
    server.start()
    acked = await flood(server.url)
    server.kill()
    db = tmp_path / "data" / "csgw.db"
    stored = {r[0] for r in rows(db, "SELECT id FROM message WHERE direction = 'in'")}
    assert set(acked) <= stored and len(acked) == MESSAGES

    server.start()  # recovery answers whatever was stored but not yet answered

    async def all_answered() -> None:
        while rows(db, "SELECT COUNT(*) FROM message WHERE direction='in' AND processed=0")[0][0]:
            await asyncio.sleep(0.05)

    async def outbox_drained() -> None:
        while rows(db, "SELECT COUNT(*) FROM outbox WHERE state != 'sent'")[0][0]:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(all_answered(), 30)
    await asyncio.wait_for(outbox_drained(), 30)
    replies = rows(db, "SELECT reply_to_id, COUNT(*) FROM message WHERE direction='out' GROUP BY reply_to_id")
    assert {r[0] for r in replies} == stored
    assert all(count == 1 for _, count in replies)
    assert rows(db, "SELECT COUNT(*) FROM outbox")[0][0] == len(replies)


async def test_sigterm_drains_and_exits_zero(server):
    server.start()
    acked = await flood(server.url, visitors=2)
    assert server.terminate() == 0
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    assert any(line["event"] == "gateway stopped" for line in lines)
    assert len(acked) == MESSAGES


def test_bad_config_stops_serve_with_one_line_per_mistake(tmp_path):
    config = write_config(tmp_path, '[[channels]]\nplugin = "webchat"\naccount = "x"\ncolor = "red"\n'
                                    '[[channels]]\nplugin = "nonesuch"\naccount = "y"\n')
    result = subprocess.run([sys.executable, "-m", "csgw", "serve", "--config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("config error:")]
    assert len(errors) == 2, result.stderr
    assert all(str(config) in line for line in errors)
    assert "channels[1].color" in errors[0] and "channels[2].plugin" in errors[1]
    assert "Traceback" not in result.stderr

"""Widget benchmark: 2,000 WebSocket visitors on loopback, each asking a question every few seconds.

`csgw serve` runs pinned to core 0, the visitors (one asyncio client) to core 1. Reports the
latency from a visitor's send to the bot's answer (p50/p99) and the server's resident memory per
open connection. Prints one JSON line.

    .venv/bin/python bench/bench_widget.py [--visitors 2000] [--rounds 3] [--interval 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

from csgw.plugins.demo import DEMO_KB

sys.path.insert(0, str(Path(__file__).parent))  # run as a script or through `python -m bench`
from bench_ingest import free_port, wait_up  # noqa: E402

QUESTIONS = ["怎么退货", "下单后多久发货？", "支持哪些付款方式", "尺码怎么选"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def visitor(session: aiohttp.ClientSession, url: str, n: int, rounds: int, interval: float,
                  connected: asyncio.Barrier, latencies: list[float], errors: list[str]) -> None:
    async with session.ws_connect(f"{url}/widget/ws?site=site&visitor=bench-visitor-{n:05d}",
                                  heartbeat=None, timeout=aiohttp.ClientWSTimeout(ws_close=5)) as socket:
        await socket.receive_json()  # hello
        await connected.wait()
        await asyncio.sleep(random.uniform(0, interval))  # spread the visitors over the interval
        for round_no in range(rounds):
            started = time.perf_counter()
            await socket.send_json({"type": "message", "client_id": f"r{round_no}",
                                    "text": QUESTIONS[(n + round_no) % len(QUESTIONS)]})
            try:
                while True:
                    frame = await asyncio.wait_for(socket.receive_json(), 30)
                    if frame.get("type") == "message" and frame.get("from") == "bot":
                        latencies.append((time.perf_counter() - started) * 1000)
                        break
                    if frame.get("type") == "error":
                        errors.append(frame.get("code", "error"))
                        break
            except TimeoutError:
                errors.append("timeout")
            await asyncio.sleep(interval * random.uniform(0.75, 1.25))


async def drive(url: str, server: psutil.Process, visitors: int, rounds: int, interval: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    rss_idle = server.memory_info().rss
    connected = asyncio.Barrier(visitors + 1)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [asyncio.create_task(visitor(session, url, n, rounds, interval, connected, latencies, errors))
                 for n in range(visitors)]
        await asyncio.wait_for(connected.wait(), 120)
        rss_connected = server.memory_info().rss
        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*tasks), rounds * interval * 2 + 120)
        seconds = time.perf_counter() - started
    return {
        "bench": "widget", "visitors": visitors, "rounds": rounds, "interval_s": interval,
        "answers": len(latencies), "errors": len(errors), "error_kinds": sorted(set(errors)),
        "answers_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.5), 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 2) if latencies else None,
        "rss_idle_mb": round(rss_idle / 2**20, 1), "rss_connected_mb": round(rss_connected / 2**20, 1),
        "kb_per_connection": round((rss_connected - rss_idle) / visitors / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visitors", type=int, default=int(os.environ.get("BENCH_VISITORS", "2000")))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--interval", type=float, default=4.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="csgw-bench-widget-"))
    port = free_port()
    (work / "csgw.toml").write_text(
        '[logging]\nlevel = "warning"\nformat = "json"\n[database]\nurl = "sqlite://./data/csgw.db"\n'
        f'[reply]\nknowledge_base = "{DEMO_KB}"\n'
        '[[channels]]\nplugin = "webchat"\naccount = "site"\nmessages_per_minute = 10000\n', encoding="utf-8")
    process = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "csgw", "serve", "--config",
                                str(work / "csgw.toml"), "--port", str(port)],
                               stdout=(work / "csgw.log").open("w"), stderr=subprocess.STDOUT)
    try:
        wait_up(f"http://127.0.0.1:{port}/healthz")
        os.sched_setaffinity(0, {1})
        result = asyncio.run(drive(f"http://127.0.0.1:{port}", psutil.Process(process.pid), args.visitors,
                                   args.rounds, args.interval))
    finally:
        process.terminate()
        process.wait(30)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

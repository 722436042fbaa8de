"""A queue nobody serves: what waiting customers cost a gateway at rest, and per new arrival.

Customers ask for a person (`人工`) through the WeChat webhook with no agent online, so each
conversation waits in the queue; the WeChat API is unreachable, so every notice and reply the
gateway tries fails and is retried. Then, for each queue size, the gateway's own CPU time is
read (psutil) over a quiet window (queue notices, SLA and VIP timers, send retries: the cost at
rest, as a share of one core) and over a burst of new arrivals (the cost per arrival). Goal
(issue 19): < 5% of a core at rest with 10,000 waiting, and a cost per arrival or tick that does
not grow with the queue. Prints one JSON line.

    python -m bench.bench_idle_queue   # BENCH_QUEUE_SIZES=1000,10000 BENCH_IDLE_SECONDS=60
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

from bench.bench_ingest import TOKEN, free_port, signature, wait_up

SIZES = [int(size) for size in os.environ.get("BENCH_QUEUE_SIZES", "1000,10000").split(",")]
IDLE_SECONDS = float(os.environ.get("BENCH_IDLE_SECONDS", "60"))
ARRIVALS = 200


def config(work: Path, port: int) -> Path:
    path = work / "csgw.toml"
    path.write_text(
        f'[server]\nport = {port}\n[logging]\nlevel = "warning"\nformat = "json"\n'
        '[reply.engine]\nmodel = "off"\n'
        '[[channels]]\nplugin = "wechat_oa"\naccount = "shop"\n'
        f'token = "{TOKEN}"\napp_id = "wxbench"\napp_secret = "secret"\napi_base = "http://127.0.0.1:9"\n',
        encoding="utf-8")
    return path


def push(customer: str, number: int) -> tuple[dict[str, str], str]:
    timestamp, nonce = str(int(time.time())), f"{number}{customer}"
    body = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{customer}]]>"
            f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[人工]]></Content><MsgId>{number}</MsgId></xml>")
    return {"signature": signature(timestamp, nonce), "timestamp": timestamp, "nonce": nonce}, body


async def ask_for_people(url: str, first: int, count: int) -> None:
    """`count` new customers ask for a person, 64 at a time."""
    gate = asyncio.Semaphore(64)
    async with aiohttp.ClientSession() as http:
        async def one(number: int) -> None:
            query, body = push(f"o_wait{number:06d}", 10_000_000 + number)
            async with gate, http.post(url, params=query, data=body.encode(),
                                       headers={"Content-Type": "text/xml"}) as answer:
                assert answer.status == 200, answer.status

        await asyncio.gather(*(one(number) for number in range(first, first + count)))


def queued(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT COUNT(*) FROM conversation WHERE state = 'queued'").fetchone()[0]


def wait_queued(database: Path, count: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while queued(database) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{queued(database)} of {count} queued")
        time.sleep(0.5)  # polling another process's store: nothing to wait on


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def one_size(size: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="csgw-idle-"))
    port = free_port()
    server = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "csgw", "serve", "--config",
                               str(config(work, port))], stdout=(work / "csgw.log").open("w"),
                              stderr=subprocess.STDOUT)
    try:
        wait_up(f"http://127.0.0.1:{port}/livez")
        url = f"http://127.0.0.1:{port}/webhooks/wechat_oa/shop"
        database = work / "data" / "csgw.db"
        asyncio.run(ask_for_people(url, 0, size))
        wait_queued(database, size)
        gateway = psutil.Process(server.pid)
        time.sleep(IDLE_SECONDS / 4)  # let the burst's own sends and retries settle first
        before = cpu_seconds(gateway)
        time.sleep(IDLE_SECONDS)
        at_rest = (cpu_seconds(gateway) - before) / IDLE_SECONDS
        before = cpu_seconds(gateway)
        asyncio.run(ask_for_people(url, size, ARRIVALS))
        wait_queued(database, size + ARRIVALS)
        per_arrival_ms = (cpu_seconds(gateway) - before) / ARRIVALS * 1000
        return {"queued": size, "core_share_at_rest": round(at_rest, 4),
                "cpu_ms_per_arrival": round(per_arrival_ms, 2)}
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    results = [one_size(size) for size in SIZES]
    print(json.dumps({"bench": "idle_queue", "idle_seconds": IDLE_SECONDS, "sizes": results}))


if __name__ == "__main__":
    main()

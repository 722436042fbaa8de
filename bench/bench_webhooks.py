"""Webhook delivery benchmark: customers' messages through a real gateway (SQLite) to a real
receiver on loopback, every `message.created` signed, recorded in the store and POSTed.

Two phases. Live: the messages are sent one after another and delivered as they come; reports
the latency from an event to its delivery (the payload's `occurred_at` to the receiver's clock)
p50/p99. Backlog: the receiver holds its answers while the messages are sent, then lets go;
reports how fast the backlog drains (deliveries per second, one conversation's in order, many
conversations side by side). Prints one JSON line.

    .venv/bin/python bench/bench_webhooks.py [--messages 1000] [--customers 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from csgw.gateway.channel import InboundMessage
from csgw.plugins.demo import DEMO_KB
from csgw.plugins.webhooks.signing import verify
from csgw.testing import running_gateway

sys.path.insert(0, str(Path(__file__).parent))  # run as a script or through `python -m bench`
from bench_widget import percentile  # noqa: E402

SECRET = "bench-secret-0123456789"


async def run(messages: int, customers: int, *, held: bool) -> dict:
    latencies: list[float] = []
    seen: set[str] = set()
    unsigned = duplicates = 0
    done = asyncio.Event()
    gate = asyncio.Event()
    if not held:
        gate.set()
    expected = messages * 2  # each message and the bot's answer (and a hand-over's notes, counted too)

    async def receive(request: web.Request) -> web.Response:
        nonlocal unsigned, duplicates
        body = await request.read()
        await gate.wait()
        delivery = request.headers["X-Csgw-Delivery"]
        duplicates += delivery in seen
        seen.add(delivery)
        if not verify(SECRET, request.headers["X-Csgw-Timestamp"], body, request.headers["X-Csgw-Signature"],
                      at=time.time()):
            unsigned += 1
        occurred = datetime.fromisoformat(json.loads(body)["occurred_at"])
        latencies.append((datetime.now(UTC) - occurred).total_seconds() * 1000)
        if len(latencies) >= expected:
            done.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", receive)
    receiver = TestServer(app, host="127.0.0.1")
    await receiver.start_server()
    with tempfile.TemporaryDirectory() as folder:
        async with running_gateway(Path(folder), channels=[{"plugin": "fake", "account": "shop"}],
                                   reply={"knowledge_base": str(DEMO_KB), "engine": {"model": "off"}},
                                   webhooks=[{"url": str(receiver.make_url("/hook")), "secret": SECRET,
                                              "events": ["message.created"], "timeout_seconds": 120}]) as gw:
            for n in range(messages):
                await gw.services.accept(InboundMessage("fake", "shop", f"u-{n % customers}", "下单后多久发货",
                                                        f"m-{n}"))
            await gw.fake("shop").wait_sent(messages, timeout=600)
            started = time.perf_counter()
            gate.set()
            await asyncio.wait_for(done.wait(), timeout=600)
            drained = time.perf_counter() - started
    await receiver.close()
    if held:
        return {"backlog": len(latencies), "drain_seconds": round(drained, 2),
                "drain_deliveries_per_second": round(len(latencies) / drained, 1), "bad_signatures": unsigned,
                "duplicates": duplicates}
    return {"live": len(latencies), "latency_ms_p50": round(percentile(latencies, 0.5), 1),
            "latency_ms_p99": round(percentile(latencies, 0.99), 1), "bad_signatures": unsigned,
            "duplicates": duplicates}


async def main(messages: int, customers: int) -> dict:
    live = await run(messages, customers, held=False)
    backlog = await run(messages, customers, held=True)
    return {**live, **backlog, "customers": customers}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=50)
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(main(arguments.messages, arguments.customers))))

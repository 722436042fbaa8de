"""What a cluster-wide rate limit costs per checked request: `take` on each backend.

Sequential latency (one caller, p50/p99) and throughput with 32 concurrent callers over 1,000
distinct keys (clients), medians of `BENCH_ROUNDS` rounds. PostgreSQL gets a database of its own,
made afresh each run. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid

from bench.bench_cluster import SERVER_URL, reset
from csgw.gateway.redis_limits import RedisLimits
from csgw.gateway.shared_limits import MemoryLimits
from csgw.gateway.storage.db import close_database, open_database
from csgw.gateway.storage.pg_limits import PostgresLimits

DATABASE = "csgw_bench_limits"
POSTGRES_URL = SERVER_URL.rsplit("/", 1)[0] + "/" + DATABASE
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SEQUENTIAL = 2_000
CONCURRENT = 32
PER_CALLER = 300


async def one_round(limits: MemoryLimits | PostgresLimits | RedisLimits) -> dict[str, float]:
    tag = uuid.uuid4().hex[:8]
    latencies = []
    for n in range(SEQUENTIAL):
        started = time.perf_counter()
        await limits.take(f"bench:{tag}:{n % 1000}", limit=6000, per_seconds=60)
        latencies.append(time.perf_counter() - started)
    latencies.sort()

    async def caller(number: int) -> None:
        for n in range(PER_CALLER):
            await limits.take(f"bench:{tag}:c{(number * PER_CALLER + n) % 1000}", limit=6000, per_seconds=60)

    started = time.perf_counter()
    await asyncio.gather(*(caller(number) for number in range(CONCURRENT)))
    elapsed = time.perf_counter() - started
    return {"p50_ms": latencies[len(latencies) // 2] * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
            "takes_per_s": CONCURRENT * PER_CALLER / elapsed}


def medians(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in rounds), 3) for key in rounds[0]}


async def main() -> None:
    results: dict[str, dict[str, float]] = {}
    results["memory"] = medians([await one_round(MemoryLimits()) for _ in range(ROUNDS)])
    redis_limits = RedisLimits(REDIS_URL)
    await redis_limits.start()
    try:
        results["redis"] = medians([await one_round(redis_limits) for _ in range(ROUNDS)])
    finally:
        await redis_limits.stop()
    await reset(DATABASE)
    await open_database(POSTGRES_URL)
    try:
        pg_limits = PostgresLimits()
        await pg_limits.start()
        results["postgres"] = medians([await one_round(pg_limits) for _ in range(ROUNDS)])
    finally:
        await close_database()
    print(json.dumps({"bench": "shared_limits", "rounds": ROUNDS, **results}))  # noqa: T201 - the bench's output


if __name__ == "__main__":
    asyncio.run(main())

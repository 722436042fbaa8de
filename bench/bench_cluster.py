"""Cluster benchmark: WeChat webhook ingest into one PostgreSQL, by one instance, then by two.

Each instance is pinned to a core of its own (`BENCH_CORES`, default "0,1") and gets its own wrk
with a distinct MsgId tag; PostgreSQL and wrk take what is left. Reports messages/s for one and
for two instances and their ratio (the goal is 1.6 with a free core per instance, which a
two-core machine does not have: read the ratio with the cores in mind).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg

from bench.bench_ingest import (
    CONNECTIONS,
    DURATION,
    HERE,
    TOKEN,
    free_port,
    signed_queries,
    wait_up,
)
from csgw.plugins.demo import DEMO_KB

SERVER_URL = os.environ.get("CSGW_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
DATABASE = "csgw_bench_cluster"  # its own, made afresh each run: never the tests' database
POSTGRES_URL = SERVER_URL.rsplit("/", 1)[0] + "/" + DATABASE
CORES = os.environ.get("BENCH_CORES", "0,1").split(",")


def config(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "csgw.toml"
    path.write_text(
        '[logging]\nlevel = "warning"\nformat = "json"\n'
        f'[database]\nurl = "{POSTGRES_URL}"\n[reply]\nknowledge_base = "{DEMO_KB}"\n'
        '[[channels]]\nplugin = "wechat_oa"\naccount = "shop"\n'
        f'token = "{TOKEN}"\napp_id = "wxbench"\napp_secret = "secret"\napi_base = "http://127.0.0.1:9"\n',
        encoding="utf-8")
    return path


def start(directory: Path, core: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(["taskset", "-c", core, sys.executable, "-m", "csgw", "serve", "--config",
                                str(config(directory)), "--port", str(port)],
                               stdout=(directory / "csgw.log").open("w"), stderr=subprocess.STDOUT)
    wait_up(f"http://127.0.0.1:{port}/livez")
    return process, port


def flood(ports: list[int], work: Path) -> list[dict]:
    """One wrk per instance, all at once; each returns its JSON summary."""
    runs = []
    for n, port in enumerate(ports):
        queries = signed_queries(work / f"queries-{n}.txt", 200_000)
        runs.append(subprocess.Popen(
            ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "-s", str(HERE / "wechat_push.lua"),
             f"http://127.0.0.1:{port}/webhooks/wechat_oa/shop", "--", str(queries), str(n + 1)],
            stdout=subprocess.PIPE, text=True))
    results = []
    for run in runs:
        output, _ = run.communicate()
        results.append(json.loads(next(line for line in output.splitlines() if line.startswith("{"))))
    return results


def per_second(results: list[dict]) -> float:
    return sum((r["requests"] - r["non_2xx"]) / (r["duration_us"] / 1e6) for r in results)


async def reset(database: str = DATABASE) -> None:
    """A fresh, empty `database` on the tests' PostgreSQL server (never the tests' own database)."""
    connection = await asyncpg.connect(SERVER_URL.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}"')
        await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()


def measure(instances: int, work: Path) -> float:
    asyncio.run(reset())
    processes = [start(work / f"{instances}-{n}", CORES[n % len(CORES)]) for n in range(instances)]
    try:
        return per_second(flood([port for _, port in processes], work))
    finally:
        for process, _ in processes:
            process.terminate()
            process.wait()


def main() -> None:
    subprocess.run([str(HERE / "ensure_wrk.sh")], check=True)
    work = Path(tempfile.mkdtemp(prefix="csgw-cluster-"))
    one = measure(1, work)
    two = measure(2, work)
    print(json.dumps({"bench": "ingest_cluster_postgres", "connections_per_instance": CONNECTIONS,
                      "cores": CORES, "one_instance_per_s": round(one, 1), "two_instances_per_s": round(two, 1),
                      "ratio": round(two / one, 2)}))


if __name__ == "__main__":
    main()

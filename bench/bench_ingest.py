"""Ingest benchmark: wrk floods the WeChat webhook and, in the same run, a bare aiohttp handler
and the durable floor (`durable_floor_server.py`: verify, parse, one row per message, answer).

Every server is pinned to core 0 and wrk to core 1. Reports messages/s, the ratios to the bare
handler (csgw's and the floor's), p50/p99 latency, and checks every acknowledged message is in
the database.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from csgw.plugins.demo import DEMO_KB

HERE = Path(__file__).parent
TOKEN = "benchtoken"
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))  # several: the median round is reported, with every ratio
SYNCHRONOUS = os.environ.get("BENCH_SQLITE_SYNCHRONOUS", "FULL")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(url)


QUERIES = 400_000  # more than any server here answers in one run


def signed_queries(path: Path, count: int = QUERIES) -> Path:
    """One signed query per request, each with its own nonce, as WeChat sends them: csgw refuses a
    nonce it has seen with another body (a replayed URL)."""
    timestamp = str(int(time.time()))
    with path.open("w") as out:
        for number in range(count):
            nonce = str(1_000_000_000 + number)
            signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
            out.write(f"signature={signature}&timestamp={timestamp}&nonce={nonce}&openid=bench\n")
    return path


def run_wrk(url: str, queries: Path) -> dict:
    output = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency",
         "-s", str(HERE / "wechat_push.lua"), url, "--", str(queries)],
        capture_output=True, text=True, check=True).stdout
    return json.loads(next(line for line in output.splitlines() if line.startswith("{")))


def serve(command: list[str], health_url: str, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(["taskset", "-c", "0", *command], stdout=log.open("w"), stderr=subprocess.STDOUT)
    wait_up(health_url)
    return process


def measure(command: list[str], port: int, health_path: str, log: Path) -> dict:
    server = serve(command, f"http://127.0.0.1:{port}{health_path}", log)
    try:
        return run_wrk(f"http://127.0.0.1:{port}/webhooks/wechat_oa/shop",
                       signed_queries(log.with_suffix(".queries")))
    finally:
        server.terminate()
        server.wait()


def per_second(result: dict) -> float:
    return (result["requests"] - result["non_2xx"]) / (result["duration_us"] / 1e6)


def one_round(work: Path) -> dict:
    """Bare handler, durable floor, csgw, one after the other: the ratios compare like with like."""
    bare_port, floor_port, csgw_port = free_port(), free_port(), free_port()
    baseline = measure([sys.executable, str(HERE / "bare_server.py"), str(bare_port)], bare_port, "/",
                       work / "bare.log")
    floor = measure([sys.executable, str(HERE / "durable_floor_server.py"), str(floor_port), str(work / "floor.db"),
                     SYNCHRONOUS], floor_port, "/", work / "floor.log")
    (work / "csgw.toml").write_text(
        '[logging]\nlevel = "warning"\nformat = "json"\n'
        f'[database]\nurl = "sqlite://./data/csgw.db?synchronous={SYNCHRONOUS}"\n'
        f'[reply]\nknowledge_base = "{DEMO_KB}"\n'
        '[[channels]]\nplugin = "wechat_oa"\naccount = "shop"\n'
        f'token = "{TOKEN}"\napp_id = "wxbench"\napp_secret = "secret"\napi_base = "http://127.0.0.1:9"\n',
        encoding="utf-8")
    result = measure([sys.executable, "-m", "csgw", "serve", "--config", str(work / "csgw.toml"),
                      "--port", str(csgw_port)], csgw_port, "/healthz", work / "csgw.log")
    with sqlite3.connect(work / "data" / "csgw.db") as db:
        stored = db.execute("SELECT COUNT(*) FROM message WHERE direction = 'in'").fetchone()[0]
        answered = db.execute("SELECT COUNT(*) FROM message WHERE direction = 'out'").fetchone()[0]
    acknowledged = result["requests"] - result["non_2xx"]
    bare_per_s = per_second(baseline)
    return {
        "messages_per_s": round(per_second(result), 1), "bare_per_s": round(bare_per_s, 1),
        "ratio": round(per_second(result) / bare_per_s, 3),
        "durable_floor_per_s": round(per_second(floor), 1),
        "durable_floor_ratio": round(per_second(floor) / bare_per_s, 3),
        "p50_ms": round(result["p50_us"] / 1000, 2), "p99_ms": round(result["p99_us"] / 1000, 2),
        "acknowledged": acknowledged, "stored": stored, "answered": answered,
        "errors": result["errors"], "all_acknowledged_stored": stored >= acknowledged,
    }


def main() -> None:
    subprocess.run([str(HERE / "ensure_wrk.sh")], check=True)
    rounds = [one_round(Path(tempfile.mkdtemp(prefix="csgw-bench-"))) for _ in range(ROUNDS)]
    middle = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]  # the median round, whole
    summary = {"bench": "ingest_wechat_oa", "connections": CONNECTIONS, "sqlite_synchronous": SYNCHRONOUS,
               "rounds": ROUNDS, **middle,
               "ratios": [r["ratio"] for r in rounds], "durable_floor_ratios": [r["durable_floor_ratio"] for r in rounds],
               "all_acknowledged_stored": all(r["all_acknowledged_stored"] for r in rounds)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

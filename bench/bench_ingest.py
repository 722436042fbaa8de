"""Ingest benchmark: wrk floods the WeChat webhook and, in the same round, a bare aiohttp handler
and the durable floor (`durable_floor_server.py`: verify, parse, one row per message, answer).

csgw runs once per mix (`ingest_mixes.py`): the answered mix and the realistic mix with the
semantic model on (the shipped default), then both on words alone (the model off). Every server is
pinned to core 0 and wrk to core 1. Reports, per mix, messages/s, the ratios to the bare handler
and to the floor, p50/p99 latency, what the bot did with the messages, and checks that every
acknowledged message is stored once and no message is answered twice. With BENCH_ROUNDS > 1 each
figure is the median of the rounds, every round's ratios listed beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from csgw.plugins.demo import DEMO_KB

if __package__ in (None, ""):  # run as a script: bench/ is on the path
    from ingest_mixes import MIXES, write_mix  # type: ignore[import-not-found,no-redef]
else:
    from bench.ingest_mixes import MIXES, write_mix

HERE = Path(__file__).parent
TOKEN = "benchtoken"
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))  # several: each figure is the median of the rounds
SYNCHRONOUS = os.environ.get("BENCH_SQLITE_SYNCHRONOUS", "FULL")
# name: (mix, [reply.engine] model)
RUNS = {"answered": ("answered", "e5"), "realistic": ("realistic", "e5"), "answered_words": ("answered", "off"),
        "realistic_words": ("realistic", "off")}
SELECTED = [name for name in os.environ.get("BENCH_MIXES", ",".join(RUNS)).split(",") if name]


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


def signature(timestamp: str, nonce: str) -> str:
    """WeChat's push signature for the bench's token."""
    return hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()


def signed_queries(path: Path, count: int = QUERIES) -> Path:
    """One signed query per request, each with its own nonce, as WeChat sends them: csgw refuses a
    nonce it has seen with another body (a replayed URL)."""
    timestamp = str(int(time.time()))
    with path.open("w") as out:
        for number in range(count):
            nonce = str(1_000_000_000 + number)
            out.write(f"signature={signature(timestamp, nonce)}&timestamp={timestamp}&nonce={nonce}&openid=bench\n")
    return path


def run_wrk(url: str, queries: Path, mix: Path | None = None) -> dict:
    extra = [str(queries), "", str(mix)] if mix else [str(queries)]
    output = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency",
         "-s", str(HERE / "wechat_push.lua"), url, "--", *extra],
        capture_output=True, text=True, check=True).stdout
    return json.loads(next(line for line in output.splitlines() if line.startswith("{")))


def serve(command: list[str], health_url: str, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(["taskset", "-c", "0", *command], stdout=log.open("w"), stderr=subprocess.STDOUT)
    wait_up(health_url)
    return process


def measure(command: list[str], port: int, health_path: str, log: Path, mix: Path | None = None,
            inspect: Callable[[int, int], dict] | None = None) -> dict:
    """wrk's summary, with how much of what `inspect(pid, port)` counts the flood took."""
    server = serve(command, f"http://127.0.0.1:{port}{health_path}", log)
    try:
        queries = signed_queries(log.with_suffix(".queries"))
        before = inspect(server.pid, port) if inspect else {}
        result = run_wrk(f"http://127.0.0.1:{port}/webhooks/wechat_oa/shop", queries, mix)
        after = inspect(server.pid, port) if inspect else {}
        return {**result, **{key: after[key] - before[key] for key in after}}
    finally:
        server.terminate()
        server.wait()


def cpu_seconds(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far of the event loop (the main thread) and of the other threads (the store's
    writer and its connection workers, the meaning model's; Python does not name them for the OS,
    so they are not told apart here); a thread that ended is not counted."""
    split = {"loop": 0.0, "threads": 0.0}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            used = cpu_seconds(task / "stat")
        except OSError:  # ended meanwhile
            continue
        split["loop" if task.name == str(pid) else "threads"] += used
    return split


def cpu_and_commits(pid: int, port: int) -> dict:
    """The server's CPU seconds so far (all its threads, and split by thread) and the writer's
    commits and jobs: per message, these hardly move with the host's load, where msg/s does."""
    cpu = cpu_seconds(Path(f"/proc/{pid}/stat"))
    threads = {f"cpu_{part}_s": used for part, used in thread_cpu(pid).items()}
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
        checks = {check["name"]: check.get("detail") or {} for check in json.load(answer)["checks"]}
    database, model = checks["database"], checks.get("meaning_model", {})
    return {"cpu_s": cpu, **threads, "writer_commits": database["writer_commits"], "writer_jobs": database["writer_jobs"],
            "model_vectors": model.get("encoded", 0), "model_fallbacks": model.get("fallbacks", 0),
            "model_timeouts": model.get("fallbacks_timeout", 0), "model_calls": model.get("batches", 0),
            "model_texts": model.get("embedded", 0)}


def per_second(result: dict) -> float:
    return (result["requests"] - result["non_2xx"]) / (result["duration_us"] / 1e6)


def csgw_config(work: Path, model: str) -> Path:
    path = work / "csgw.toml"
    path.write_text(
        '[logging]\nlevel = "warning"\nformat = "json"\n'
        f'[database]\nurl = "sqlite://./data/csgw.db?synchronous={SYNCHRONOUS}"\n'
        f'[reply]\nknowledge_base = "{DEMO_KB}"\n[reply.engine]\nmodel = "{model}"\n'
        '[[channels]]\nplugin = "wechat_oa"\naccount = "shop"\n'
        f'token = "{TOKEN}"\napp_id = "wxbench"\napp_secret = "secret"\napi_base = "http://127.0.0.1:9"\n',
        encoding="utf-8")
    return path


def run_csgw(work: Path, mix: Path, model: str) -> dict:
    work.mkdir()
    port = free_port()
    result = measure([sys.executable, "-m", "csgw", "serve", "--config", str(csgw_config(work, model)),
                      "--port", str(port)], port, "/healthz", work / "csgw.log", mix, cpu_and_commits)
    return {"result": result, **stored_check(work / "data" / "csgw.db", result["requests"] - result["non_2xx"])}


def stored_check(database: Path, acknowledged: int) -> dict:
    """Every acknowledged message stored once, none left unanswered, none answered twice; and
    what the bot did: its replies by source, hand-over notes, messages left to a person."""
    with sqlite3.connect(database) as db:
        stored, distinct, unprocessed = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT external_id), COALESCE(SUM(processed = 0), 0) FROM message "
            "WHERE direction = 'in'").fetchone()
        twice = db.execute("SELECT COUNT(*) FROM (SELECT 1 FROM message WHERE direction = 'out' AND "
                           "reply_to_id IS NOT NULL GROUP BY reply_to_id, text HAVING COUNT(*) > 1)").fetchone()[0]
        replies = dict(db.execute(
            "SELECT CASE sender WHEN 'bot' THEN json_extract(payload, '$.source') ELSE sender END, COUNT(*) "
            "FROM message WHERE direction = 'out' GROUP BY 1").fetchall())
        silent = db.execute("SELECT COUNT(*) FROM message m WHERE direction = 'in' AND NOT EXISTS "
                            "(SELECT 1 FROM message r WHERE r.reply_to_id = m.id)").fetchone()[0]
        queued = db.execute("SELECT COUNT(*) FROM conversation WHERE state = 'queued'").fetchone()[0]
    return {"acknowledged": acknowledged, "stored": stored,
            "all_acknowledged_stored": distinct >= acknowledged and distinct == stored,
            "unanswered_left": unprocessed, "answered_twice": twice,
            "replies": {str(source): count for source, count in sorted(replies.items(), key=str)},
            "left_to_a_person": silent, "queued_conversations": queued}


def one_round(work: Path, mixes: dict[str, Path]) -> dict:
    """Bare handler, durable floor, then csgw per mix, one after the other: like with like."""
    bare_port, floor_port = free_port(), free_port()
    bare = per_second(measure([sys.executable, str(HERE / "bare_server.py"), str(bare_port)], bare_port, "/",
                              work / "bare.log"))
    floor = per_second(measure([sys.executable, str(HERE / "durable_floor_server.py"), str(floor_port),
                                str(work / "floor.db"), SYNCHRONOUS], floor_port, "/", work / "floor.log"))
    runs = {}
    for name in SELECTED:
        mix, model = RUNS[name]
        run = run_csgw(work / name, mixes[mix], model)
        result = run.pop("result")
        stored = run["stored"]
        runs[name] = {"messages_per_s": round(per_second(result), 1), "ratio": round(per_second(result) / bare, 3),
                      "floor_share": round(per_second(result) / floor, 3),
                      "p50_ms": round(result["p50_us"] / 1000, 2), "p99_ms": round(result["p99_us"] / 1000, 2),
                      "cpu_ms_per_message": round(1000 * result["cpu_s"] / stored, 3),
                      # the same split: the event loop, the other threads (writer, model)
                      "cpu_ms_per_message_by_thread": {part: round(1000 * result[f"cpu_{part}_s"] / stored, 3)
                                                       for part in ("loop", "threads")},
                      "commits_per_message": round(result["writer_commits"] / stored, 3),
                      "jobs_per_message": round(result["writer_jobs"] / stored, 3),
                      # messages given a vector by the model / matched on words (timeouts among them);
                      # its calls and the texts in them
                      "model_vectors": result["model_vectors"], "model_fallbacks": result["model_fallbacks"],
                      "model_timeouts": result["model_timeouts"], "model_calls": result["model_calls"],
                      "model_texts": result["model_texts"],
                      "errors": result["errors"], "model": model, **run}
    return {"bare_per_s": round(bare, 1), "durable_floor_per_s": round(floor, 1),
            "durable_floor_ratio": round(floor / bare, 3), "runs": runs}


def medians(rounds: list[dict]) -> dict:
    """Each figure the median of the rounds; the last round's checks and counts, every round's ratios."""
    summary: dict = {key: statistics.median(r[key] for r in rounds)
                     for key in ("bare_per_s", "durable_floor_per_s", "durable_floor_ratio")}
    summary["durable_floor_ratios"] = [r["durable_floor_ratio"] for r in rounds]
    summary["runs"] = {}
    for name in SELECTED:
        each = [r["runs"][name] for r in rounds]
        figures = {key: statistics.median(run[key] for run in each)
                   for key in ("messages_per_s", "ratio", "floor_share", "p50_ms", "p99_ms", "cpu_ms_per_message",
                               "commits_per_message", "jobs_per_message")}
        summary["runs"][name] = {**each[-1], **figures, "ratios": [run["ratio"] for run in each],
                                 "p99s_ms": [run["p99_ms"] for run in each],
                                 "all_acknowledged_stored": all(run["all_acknowledged_stored"] for run in each),
                                 "answered_twice": sum(run["answered_twice"] for run in each)}
    for suffix in ("", "_words"):
        answered, realistic = "answered" + suffix, "realistic" + suffix
        if {answered, realistic} <= set(SELECTED):
            shares = [r["runs"][realistic]["messages_per_s"] / r["runs"][answered]["messages_per_s"] for r in rounds]
            summary[f"realistic_vs_answered{suffix}"] = round(statistics.median(shares), 3)
            summary[f"realistic_vs_answered{suffix}_rounds"] = [round(share, 3) for share in shares]
    return summary


def main() -> None:
    subprocess.run([str(HERE / "ensure_wrk.sh")], check=True)
    work = Path(tempfile.mkdtemp(prefix="csgw-bench-"))
    mixes = {name: write_mix(work / f"{name}.mix", build()) for name, build in MIXES.items()
             if any(RUNS[run][0] == name for run in SELECTED)}
    load_before = os.getloadavg()[0]
    rounds = []
    for number in range(ROUNDS):
        (work / str(number)).mkdir()
        rounds.append(one_round(work / str(number), mixes))
    summary = {"bench": "ingest_wechat_oa", "connections": CONNECTIONS, "duration": DURATION,
               "sqlite_synchronous": SYNCHRONOUS, "rounds": ROUNDS,
               "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)], **medians(rounds)}
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""How the read side holds up on a big store: ~1,000,000 messages in a temp SQLite database.

Seeds 100,000 conversations of 10 messages (one executemany transaction), then times the
service report, a full streamed export (resident memory growth while it runs) and the agents'
conversation list. Prints one JSON line.

    .venv/bin/python bench/bench_store_growth.py [--conversations 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from csgw.cli.history_io import FULL_FIELDS, ExportFilter, export_records
from csgw.gateway.models import Conversation
from csgw.gateway.reports import ReportRange, service_report
from csgw.gateway.storage.db import close_database, open_database

START = datetime(2026, 1, 1, tzinfo=UTC)
PER_CONVERSATION = 10


def stamp(at: datetime) -> str:
    return str(at)  # tortoise's SQLite text form


def seed(path: Path, conversations: int) -> int:
    rng = random.Random(7)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous = OFF")
    agents = [(i, f"agent{i}") for i in range(1, 11)]
    db.executemany("INSERT INTO agent (id, name, display_name, skills, max_concurrent, status, role, created_at) "
                   "VALUES (?, ?, '', '[]', 5, 'offline', 'agent', '2026-01-01 00:00:00+00:00')", agents)
    convs, messages = [], []
    message_id = 0
    for cid in range(1, conversations + 1):
        opened = START + timedelta(seconds=cid * 25)
        human = rng.random() < 0.6
        agent = rng.randint(1, 10) if human else None
        waiting = opened + timedelta(seconds=30) if human else None
        first = waiting + timedelta(seconds=rng.randint(5, 900)) if human else None
        closed = opened + timedelta(seconds=rng.randint(600, 7200)) if rng.random() < 0.9 else None
        convs.append((cid, cid % 50_000 + 1, "webchat", "default", "closed" if closed else "assigned",
                      rng.choice(["sales", "support", None]), agent, rng.choice([None, None, 3, 4, 5]),
                      stamp(opened), stamp(waiting) if waiting else None, stamp(waiting) if waiting else None,
                      stamp(first) if first else None, stamp(closed) if closed else None, stamp(opened)))
        for n in range(PER_CONVERSATION):
            message_id += 1
            at = opened + timedelta(seconds=n * 40)
            inbound = n % 2 == 0
            sender = "customer" if inbound else ("agent" if human and n > 2 else "bot")
            messages.append((message_id, cid, "webchat", "default", "in" if inbound else "out", sender,
                             agent if sender == "agent" else None, f"消息 {message_id} 你好，请问订单什么时候发货",
                             f"v{cid}:{n}" if inbound else None, None if inbound else "sent", stamp(at)))
    db.executemany(
        'INSERT INTO conversation (id, customer_id, channel, account, state, "group", agent_id, satisfaction, '
        "opened_at, waiting_since, assigned_at, first_response_at, closed_at, last_message_at, priority, bot_state, "
        "flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, '{}', '{}')", convs)
    db.executemany(
        "INSERT INTO message (id, conversation_id, channel, account, direction, sender, agent_id, text, external_id, "
        "delivery, created_at, kind, payload, processed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'text', '{}', 1)",
        messages)
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return message_id


async def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = await work()
    return round(time.perf_counter() - started, 3), result


async def main(conversations: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="csgw-bench-"))
    url = f"sqlite://{folder}/csgw.db"
    await open_database(url)
    await close_database()
    started = time.perf_counter()
    total = seed(folder / "csgw.db", conversations)
    seed_seconds = round(time.perf_counter() - started, 1)
    await open_database(url)
    try:
        span = ReportRange(START, START + timedelta(days=365))
        report_seconds, report = await timed(lambda: service_report(span))
        week = ReportRange(START + timedelta(days=7), START + timedelta(days=14))
        week_seconds, _ = await timed(lambda: service_report(week))

        async def export() -> tuple[int, int]:
            written, process = 0, psutil.Process()
            before = peak = process.memory_info().rss
            with open("/dev/null", "w", encoding="utf-8") as sink:
                async for page in export_records(ExportFilter(), FULL_FIELDS):
                    sink.writelines(json.dumps(item, ensure_ascii=False) + "\n" for item in page)
                    written += len(page)
                    peak = max(peak, process.memory_info().rss)
            return written, peak - before

        export_seconds, (exported, peak) = await timed(export)
        list_seconds, _ = await timed(lambda: Conversation.filter(state="assigned")
                                      .order_by("-last_message_at", "-id").limit(50))
    finally:
        await close_database()
    return {"messages": total, "conversations": conversations, "seed_s": seed_seconds,
            "report_all_s": report_seconds, "report_week_s": week_seconds,
            "report_conversations": report["total"]["conversations"], "export_s": export_seconds,
            "export_messages": exported, "export_msgs_per_s": round(exported / export_seconds),
            "export_rss_growth_mb": round(peak / 2**20, 1), "conversation_list_s": list_seconds,
            "db_mb": round((folder / "csgw.db").stat().st_size / 2**20)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100_000)
    args = parser.parse_args()
    sys.stdout.write(json.dumps(asyncio.run(main(args.conversations))) + "\n")

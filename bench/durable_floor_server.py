"""The floor: the least a durable WeChat webhook can do, to put csgw's ratio in context.

Checks the signature, parses the push and builds the passive reply with csgw's own helpers
(defusedxml underneath), and stores one row per message in between (group commit on one writer
thread, WAL, synchronous=FULL unless told otherwise: durable before the acknowledgement). No customers, conversations, reply engine, events or hooks.
Whatever csgw does on top of this costs throughput; this server's ratio to the bare handler
is the ceiling any design on this stack (CPython, aiohttp, SQLite) could reach.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from csgw.gateway.webhook_crypto import signature_matches
from csgw.plugins.wechat.xml import build_reply, parse_push

TOKEN = "benchtoken"
ROWS = web.AppKey("rows", list)
WAKE = web.AppKey("wake", asyncio.Event)
WRITER = web.AppKey("writer", asyncio.Task)


class Store:
    def __init__(self, path: str, synchronous: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.execute("CREATE TABLE IF NOT EXISTS message (id INTEGER PRIMARY KEY, external_id TEXT UNIQUE, "
                        "user_id TEXT, text TEXT, created_at REAL)")
        self.thread = ThreadPoolExecutor(max_workers=1)

    def commit(self, rows: list[tuple]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany("INSERT OR IGNORE INTO message (external_id, user_id, text, created_at) "
                            "VALUES (?, ?, ?, ?)", rows)
        self.db.execute("COMMIT")


async def writer(app: web.Application, store: Store) -> None:
    """Everything queued while the last commit ran goes into the next one."""
    loop = asyncio.get_running_loop()
    while True:
        await app[WAKE].wait()
        app[WAKE].clear()
        batch, app[ROWS] = app[ROWS], []
        await loop.run_in_executor(store.thread, store.commit, [row for row, _ in batch])
        for _, done in batch:
            done.set_result(None)


async def handle(request: web.Request) -> web.Response:
    query = request.query
    if not signature_matches(query.get("signature"), TOKEN, query["timestamp"], query["nonce"]):
        raise web.HTTPForbidden()
    push = parse_push(await request.read())
    user = push["FromUserName"]
    stored = asyncio.get_running_loop().create_future()
    request.app[ROWS].append(((push["MsgId"], user, push["Content"], time.time()), stored))
    request.app[WAKE].set()
    await stored
    reply = build_reply(to_user=user, from_user=push["ToUserName"], create_time=int(time.time()), text="已收到")
    return web.Response(text=reply, content_type="application/xml")


def main() -> None:
    store = Store(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "FULL")
    app = web.Application()
    app[ROWS], app[WAKE] = [], asyncio.Event()

    async def start(app: web.Application) -> None:
        app[WRITER] = asyncio.create_task(writer(app, store))

    app.on_startup.append(start)
    app.router.add_route("*", "/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()

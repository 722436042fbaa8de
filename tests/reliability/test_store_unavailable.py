"""Database locked or full: inbound is refused with a retryable status, never acknowledged and
lost; health says down; the platform's retry is stored once the database is back."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from csgw.gateway import stalled_answers
from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Message
from csgw.gateway.storage.db import current_connection
from csgw.testing import RunningGateway, running_gateway
from tests.gateway.helpers import HeldReplies
from tests.reliability.wechat_push import OA_CHANNEL, push

SITE = {"plugin": "webchat", "account": "site"}
LONG = "请问这件衣服什么时候发货？" * 120  # fills pages fast, so a full database shows at once


@asynccontextmanager
async def locked(path: Path, gw: RunningGateway) -> AsyncIterator[None]:
    """Another process's writer holds the database: BEGIN EXCLUSIVE until released."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@asynccontextmanager
async def full(path: Path, gw: RunningGateway) -> AsyncIterator[None]:
    """The database cannot grow by one page: what SQLite reports on a full disk (SQLITE_FULL).
    The limit is per connection: set on the ORM's and on the writer's own."""
    connection = current_connection()
    writer = gw.services.writer.runner
    pages = (await connection.execute_query_dict("PRAGMA page_count"))[0]["page_count"]
    for limit in (connection.execute_script, writer.execute):
        await limit(f"PRAGMA max_page_count = {pages}")
    try:
        yield
    finally:
        for limit in (connection.execute_script, writer.execute):
            await limit("PRAGMA max_page_count = 4294967294")


async def health(session: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    async with session.get(f"{url}/healthz") as response:
        return response.status, await response.json()


async def widget_send(socket: aiohttp.ClientWebSocketResponse, client_id: str, text: str) -> dict:
    await socket.send_json({"type": "message", "client_id": client_id, "text": text})
    while True:
        frame = await asyncio.wait_for(socket.receive_json(), 10)
        if frame["type"] in ("ack", "error"):
            return frame


@pytest.mark.parametrize("outage", [locked, full], ids=["locked", "full"])
async def test_inbound_is_refused_retryably_while_the_database_cannot_write(tmp_path, outage: Callable):
    db = tmp_path / "csgw.db"
    async with running_gateway(tmp_path, database_url=f"sqlite://{db}?busy_timeout=200",
                               channels=[OA_CHANNEL, SITE]) as gw, aiohttp.ClientSession() as session:
        assert await push(session, gw.url, "o_before", "你好", 1) == 200
        socket = await session.ws_connect(f"{gw.url}/widget/ws?site=site&visitor=visitor-0001")
        assert (await socket.receive_json())["type"] == "hello"

        acknowledged, refused = [], []
        async with outage(db, gw):
            for msg_id in range(100, 120):  # a full database may still fit a message or two
                status = await push(session, gw.url, f"o_{msg_id}", LONG, msg_id)
                assert status in (200, 503), status
                (acknowledged if status == 200 else refused).append(msg_id)
                if refused:
                    break
            assert refused, "the database never refused a write"
            frame = await widget_send(socket, "c1", LONG)
            assert frame == {"type": "error", "code": "unavailable", "message": frame["message"]}
            status, report = await health(session, gw.url)
            writes = next(c for c in report["checks"] if c["name"] == "store_writes")
            assert status == 503 and report["status"] == "down" and writes["status"] == "down"

        for msg_id in acknowledged:  # what got a 2xx is on disk
            assert await Message.filter(external_id=str(msg_id)).count() == 1
        assert await Message.filter(external_id=str(refused[0])).count() == 0
        # the platform retries the refused push, the visitor sends again: both stored once
        assert await push(session, gw.url, f"o_{refused[0]}", LONG, refused[0]) == 200
        assert await Message.filter(external_id=str(refused[0])).count() == 1
        frame = await widget_send(socket, "c1", LONG)
        assert frame["type"] == "ack"
        assert await Message.filter(external_id="visitor-0001:c1").count() == 1
        status, report = await health(session, gw.url)
        assert {c["name"]: c["status"] for c in report["checks"]}.items() >= {
            "database": "ok", "store_writes": "ok"}.items()
        await socket.close()


async def stall_after_store_fills(gw: RunningGateway, db: Path, held: HeldReplies) -> int:
    """A message acknowledged before the store filled; its answer could not be written."""
    accepted = await gw.services.accept(InboundMessage("fake", "shop", "u1", "在吗", "m1"))
    await asyncio.wait_for(held.asked.wait(), 10)
    async with full(db, gw):
        held.release.set()
        await asyncio.wait_for(gw.services.pipeline.drain(), 10)  # its answer was tried, and refused
        assert not (await Message.get(id=accepted.message_id)).processed
        assert gw.fake("shop").sent == []
    return accepted.message_id


async def test_an_answer_the_full_store_refused_goes_out_once_it_writes_again(tmp_path):
    db = tmp_path / "csgw.db"
    held = HeldReplies(lambda text: f"{text}: {LONG}")
    async with running_gateway(tmp_path, database_url=f"sqlite://{db}", channels=[{"plugin": "fake", "account": "shop"}],
                               extra_plugins=[("held", held)]) as gw:
        message_id = await stall_after_store_fills(gw, db, held)
        # the disk is freed; nobody writes in and nothing restarts
        [sent] = await gw.fake("shop").wait_sent(1, timeout=30)
        assert sent.text.startswith("在吗: ")
        assert (await Message.get(id=message_id)).processed
        assert await Message.filter(reply_to_id=message_id).count() == 1


async def test_the_first_write_that_commits_again_answers_what_waited_at_once(tmp_path, monkeypatch):
    # retries of their own would come far too late: only the store's return can explain an answer
    monkeypatch.setattr(stalled_answers, "RETRY_FIRST_SECONDS", 600)
    monkeypatch.setattr(stalled_answers, "RETRY_MAX_SECONDS", 600)
    db = tmp_path / "csgw.db"
    held = HeldReplies(lambda text: f"{text}: {LONG}")
    async with running_gateway(tmp_path, database_url=f"sqlite://{db}", channels=[{"plugin": "fake", "account": "shop"}],
                               extra_plugins=[("held", held)]) as gw:
        message_id = await stall_after_store_fills(gw, db, held)
        later = await gw.services.accept(InboundMessage("fake", "shop", "u2", "还在吗", "m2"))
        sent = await gw.fake("shop").wait_sent(2, timeout=30)
        assert sorted(m.text.split(":")[0] for m in sent) == ["在吗", "还在吗"]
        await gw.services.pipeline.drain()
        for answered in (message_id, later.message_id):
            assert await Message.filter(reply_to_id=answered).count() == 1
        assert await Message.filter(direction="in", processed=False).count() == 0
        assert len(gw.fake("shop").sent) == 2

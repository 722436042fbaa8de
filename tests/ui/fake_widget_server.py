"""A stand-in for the gateway's webchat channel: serves the widget files and speaks its protocol.

It lets the browser tests drive what the real server cannot easily be made to do on cue:
drop every socket, push typing or survey frames, and record each frame the widget sent.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

STATIC = Path(__file__).parents[2] / "plugins" / "webchat" / "static"
MENU = [{"key": "1", "label": "物流"}, {"key": "2", "label": "退换货"}]


def bot_answer(text: str) -> dict[str, Any]:
    if "发货" in text:
        return {"text": "现货订单48小时内发货哦。"}
    if text == "菜单":
        return {"text": "请选择：\n1. 物流\n2. 退换货", "choices": MENU}
    if text == "1":
        return {"text": "物流：默认发顺丰。"}
    return {"text": f"收到：{text}"}


class FakeWidgetServer:
    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = {"title": "测试小店", "color": "#1677ff", "logo": None, "greeting": "您好！",
                       "position": "right", "language": "zh-Hans", **(config or {})}
        self.history: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.acked: dict[tuple[str, str], int] = {}
        self.sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self.received: list[dict[str, Any]] = []
        self.connections = 0
        self._next_id = 100
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_get("/widget/widget.js", self.script)
        app.router.add_get("/widget/ws", self.socket)
        app.router.add_get("/embed", self.embed)
        self.server = TestServer(app, host="127.0.0.1")

    async def __aenter__(self) -> FakeWidgetServer:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def script(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "widget.js", headers={"Content-Type": "application/javascript"})

    async def embed(self, request: web.Request) -> web.Response:
        """A shop page embedding the widget; query parameters become the script's data-* attributes."""
        attributes = "".join(f' data-{escape(k)}="{escape(v)}"' for k, v in request.query.items())
        return web.Response(content_type="text/html", text=(
            '<!doctype html><html><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1"><title>shop</title></head>'
            f'<body><h1>Shop</h1><script src="/widget/widget.js"{attributes} async></script></body></html>'))

    def _store(self, visitor: str, frame: dict[str, Any]) -> dict[str, Any]:
        self._next_id += 1
        stored = {"type": "message", "id": self._next_id, "ts": datetime.now(UTC).isoformat(), **frame}
        self.history[visitor].append(stored)
        return stored

    async def socket(self, request: web.Request) -> web.StreamResponse:
        visitor = request.query["visitor"]
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets[visitor].add(ws)
        self.connections += 1
        await ws.send_json({"type": "hello", "conversation_id": 1, "config": self.config})
        try:
            async for raw in ws:
                if raw.type != WSMsgType.TEXT:
                    break
                frame = json.loads(raw.data)
                await self._record(frame | {"visitor": visitor})
                await self._answer(ws, visitor, frame)
        finally:
            self.sockets[visitor].discard(ws)
        return ws

    async def _answer(self, ws: web.WebSocketResponse, visitor: str, frame: dict[str, Any]) -> None:
        if frame["type"] == "message":
            key = (visitor, frame["client_id"])
            if key in self.acked:  # a retry: acknowledge again, store nothing
                await ws.send_json({"type": "ack", "client_id": frame["client_id"], "id": self.acked[key]})
                return
            stored = self._store(visitor, {"from": "customer", "text": frame["text"]})
            self.acked[key] = stored["id"]
            await ws.send_json({"type": "ack", "client_id": frame["client_id"], "id": stored["id"]})
            await self.push(visitor, {"from": "bot", **bot_answer(frame["text"])})
        elif frame["type"] == "resume":
            for message in self.history[visitor]:
                if message["id"] > frame["after"]:
                    await ws.send_json(message)
        elif frame["type"] == "survey":
            await ws.send_json({"type": "survey_thanks"})

    async def _record(self, frame: dict[str, Any]) -> None:
        async with self._changed:
            self.received.append(frame)
            self._changed.notify_all()

    async def push(self, visitor: str, frame: dict[str, Any]) -> dict[str, Any] | None:
        """Send a frame to the visitor's open sockets; a message is stored first (so resume has it)."""
        if frame.get("type", "message") == "message":
            frame = self._store(visitor, frame)
        for ws in list(self.sockets[visitor]):
            await ws.send_json(frame)
        return frame

    async def drop(self) -> None:
        """Cut every visitor's connection, as a network loss would."""
        for sockets in self.sockets.values():
            for ws in list(sockets):
                await ws.close(code=1012)

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], count: int = 1,
                       timeout: float = 10) -> list[dict[str, Any]]:
        """Wait until the widget has sent `count` frames matching `predicate`; return them."""
        def matching() -> list[dict[str, Any]]:
            return [frame for frame in self.received if predicate(frame)]

        async def reached() -> list[dict[str, Any]]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(matching()) >= count)
                return matching()

        return await asyncio.wait_for(reached(), timeout)

"""Small clients for tests: a widget visitor and an agent over the real HTTP/WebSocket API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp

from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.models import Agent
from csgw.gateway.reply import Reply, ReplyContext
from csgw.gateway.sessions import hash_token, new_token


async def add_agent(name: str, skills: list[str] | None = None, status: str = "offline", max_concurrent: int = 5,
                    role: str = "supervisor") -> tuple[Agent, str]:
    """A test agent; a supervisor unless a test is about what a plain agent may not do."""
    token = new_token()
    agent = await Agent.create(name=name, display_name=name.title(), skills=skills or [], status=status,
                               max_concurrent=max_concurrent, token_hash=hash_token(token), role=role)
    return agent, token


class Visitor:
    def __init__(self, session: aiohttp.ClientSession, url: str, visitor: str, site: str = "default", **query: str):
        self.session, self.url, self.visitor, self.site, self.query = session, url, visitor, site, query
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.hello: dict[str, Any] | None = None

    async def connect(self) -> Visitor:
        params = {"site": self.site, "visitor": self.visitor, **self.query}
        self.ws = await self.session.ws_connect(self.url + "/widget/ws", params=params)
        self.hello = await self.receive()
        return self

    async def receive(self, timeout: float = 10) -> dict[str, Any]:
        return await asyncio.wait_for(self.ws.receive_json(), timeout)

    async def receive_until(self, predicate, timeout: float = 10) -> dict[str, Any]:
        async def loop() -> dict[str, Any]:
            while True:
                frame = await self.ws.receive_json()
                if predicate(frame):
                    return frame

        return await asyncio.wait_for(loop(), timeout)

    async def say(self, client_id: str, text: str) -> dict[str, Any]:
        await self.ws.send_json({"type": "message", "client_id": client_id, "text": text})
        return await self.receive_until(lambda f: f["type"] == "ack" and f["client_id"] == client_id)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


class AgentClient:
    def __init__(self, session: aiohttp.ClientSession, url: str, token: str):
        self.session, self.base, self.token = session, url + "/api/v1", token

    async def call(self, method: str, path: str, json: Any = None, expect: int | None = None) -> Any:
        async with self.session.request(method, self.base + path, json=json,
                                        headers={"Authorization": f"Bearer {self.token}"}) as response:
            body = await response.json()
            if expect is not None:
                assert response.status == expect, (response.status, body)
            return body


async def wait_for_condition(check, timeout: float = 10, interval: float = 0.02) -> None:
    """Poll an async condition until it holds (bounded); for state with no event to wait on."""
    async def loop() -> None:
        while not await check():
            await asyncio.sleep(interval)

    await asyncio.wait_for(loop(), timeout)


async def wait_delivered(message_ids: list[int], timeout: float = 10) -> None:
    from csgw.gateway.models import Message

    async def delivered() -> bool:
        return await Message.filter(id__in=message_ids, delivery="sent").count() == len(message_ids)

    await wait_for_condition(delivered, timeout)


async def next_event(socket: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = 10) -> dict[str, Any]:
    """The data of the next agent event of `kind` on an events socket, skipping others."""
    async def loop() -> dict[str, Any]:
        while True:
            event = await socket.receive_json()
            if event["type"] == kind:
                return event["data"]

    return await asyncio.wait_for(loop(), timeout)


class HeldReplies:
    """A reply handler (and its plugin) answering `answer(text)` only once the test lets it:
    `asked` is set when a message reaches it, `release` lets the answer out. With `only`, it
    answers that text alone and leaves the others to the knowledge base."""

    name = "held"
    priority = 10_000

    def __init__(self, answer: Callable[[str], str], only: str | None = None) -> None:
        self.answer = answer
        self.only = only
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def reply(self, context: ReplyContext) -> Reply | None:
        if self.only is not None and context.text != self.only:
            return None
        self.asked.set()
        await self.release.wait()
        return Reply(self.answer(context.text), source=self.name)

    @hookimpl
    def csgw_reply_handlers(self, settings: object) -> list[HeldReplies]:
        return [self]

"""Routing scenarios run the real gateway with the fake channel `shop` and a scripted reply plugin."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from csgw.gateway.channel import InboundMessage
from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.models import Conversation
from csgw.gateway.reply import Reply, ReplyContext
from csgw.testing import RunningGateway, running_gateway

SHOP = [{"plugin": "fake", "account": "shop"}]
# Timers slow by default, so a test of "pulled at once" cannot pass thanks to a timer.
SLOW_TIMERS = {"tick_seconds": 60}


class ScriptedReplies:
    """Answers 问… itself, hands 鞋… to the 鞋 group, and hands everything else over."""

    name = "scripted"
    priority = 100

    async def reply(self, context: ReplyContext) -> Reply | None:
        if context.text.startswith("问"):
            return Reply("机器人的回答", source="scripted")
        if "鞋" in context.text:
            return Reply("这就为您转接鞋类客服", handover=True, group="鞋", source="scripted")
        return Reply(None, handover=True, source="scripted")


class ScriptedRepliesPlugin:
    @hookimpl
    def csgw_reply_handlers(self, settings: Any) -> list[ScriptedReplies]:
        return [ScriptedReplies()]


class Shop:
    """A running gateway with helpers for customers writing in and for reading the outcome."""

    def __init__(self, gw: RunningGateway, session: aiohttp.ClientSession) -> None:
        self.gw, self.session, self.counter = gw, session, 0

    @property
    def services(self) -> Any:
        return self.gw.services

    async def say(self, user: str, text: str) -> Conversation:
        self.counter += 1
        accepted = await self.services.accept(InboundMessage("fake", "shop", user, text, f"{user}-{self.counter}"))
        await self.services.pipeline.drain()
        return await Conversation.get(id=accepted.conversation_id)

    async def say_all(self, messages: list[tuple[str, str]]) -> list[Conversation]:
        """Customers writing at the same moment."""
        accepted = await asyncio.gather(*(
            self.services.accept(InboundMessage("fake", "shop", user, text, f"{user}-{i}-all"))
            for i, (user, text) in enumerate(messages)))
        await self.services.pipeline.drain()
        return [await Conversation.get(id=a.conversation_id) for a in accepted]

    def texts_to(self, user: str) -> list[str]:
        return [m.text for m in self.gw.fake("shop").sent if m.user_id == user]

    async def wait_text(self, user: str, fragment: str, timeout: float = 10) -> None:
        fake = self.gw.fake("shop")

        async def seen() -> None:
            async with fake._changed:
                await fake._changed.wait_for(lambda: any(fragment in t for t in self.texts_to(user)))

        await asyncio.wait_for(seen(), timeout)


@asynccontextmanager
async def shop(tmp_path: Path, *, database_url: str | None = None, assignment: dict | None = None,
               escalation: dict | None = None, channels: list | None = None, **sections: Any) -> AsyncIterator[Shop]:
    async with running_gateway(
        tmp_path, database_url=database_url, channels=channels or SHOP, disabled=["kb"],
        extra_plugins=[("scripted_replies", ScriptedRepliesPlugin())],
        assignment={**SLOW_TIMERS, **(assignment or {})},
        escalation={"tick_seconds": 300, **(escalation or {})}, **sections,
    ) as gw, aiohttp.ClientSession() as session:
        yield Shop(gw, session)

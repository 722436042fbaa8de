"""An answered message's events and its answer's come out together, before the message hooks
run: a hook that waits must not let a later message's events in between (a console reading the
stream would show the next customer's question before this customer's answer)."""

from __future__ import annotations

import asyncio
from typing import Any

from csgw.gateway.channel import InboundMessage
from csgw.gateway.hookspecs import hookimpl
from csgw.testing import running_gateway

FAKE = [{"plugin": "fake", "account": "shop"}]
HELD = "怎么退货"


class SlowObserver:
    """A `csgw_message_received` hook that keeps the message saying `HELD` until released."""

    def __init__(self) -> None:
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    @hookimpl
    async def csgw_message_received(self, services: Any, message: dict[str, Any], profile: Any) -> None:
        if message.get("text") == HELD:
            self.holding.set()
            await self.release.wait()


def said(user: str, text: str, number: int) -> InboundMessage:
    return InboundMessage(channel="fake", account="shop", user_id=user, text=text, external_id=f"{user}-{number}")


async def test_a_waiting_hook_lets_no_later_message_between_a_message_and_its_answer(tmp_path, database_url):
    observer = SlowObserver()
    async with running_gateway(tmp_path, database_url=database_url, channels=FAKE,
                               extra_plugins=[("slow_observer", observer)]) as gw:
        for user in ("u-1", "u-2"):  # known conversations: their next answers take the one-commit path
            await gw.services.accept(said(user, "你好", 1))
        await gw.services.pipeline.drain()
        created: list[dict[str, Any]] = []
        gw.services.events.observe(lambda event: created.append(event["data"])
                                   if event["type"] == "message.created" else None)

        held = await gw.services.accept(said("u-1", HELD, 2))
        await observer.holding.wait()
        later = await gw.services.accept(said("u-2", "下单后多久发货？", 2))
        observer.release.set()
        await gw.services.pipeline.drain()

        order = [(event["id"], event["conversation_id"], event["direction"]) for event in created]
        held_at = order.index((held.message_id, held.conversation_id, "in"))
        held_answer = next(i for i, (_, conversation, direction) in enumerate(order)
                           if conversation == held.conversation_id and direction == "out")
        assert held_at < held_answer < order.index((later.message_id, later.conversation_id, "in"))

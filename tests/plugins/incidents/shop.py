"""A gateway with the incidents plugin and a fake channel on a clock moved by hand, and the
customers and supervisors a test plays."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from csgw.gateway.channel import InboundMessage
from csgw.gateway.clock import now, use_clock
from csgw.gateway.models import Message
from csgw.gateway.testing import FakeClock
from csgw.plugins.incidents.desk import IncidentDesk
from csgw.plugins.incidents.registry import running
from csgw.testing import RunningGateway, running_gateway
from tests.gateway.helpers import AgentClient, add_agent, wait_for_condition

FAKE = [{"plugin": "fake", "account": "shop"}]
BROADCAST = "支付渠道故障，已在修复，修好后我们会第一时间通知您。"
MARKER = "test.marker"


@dataclass
class Shop:
    gw: RunningGateway
    session: aiohttp.ClientSession
    clock: FakeClock
    supervisor: AgentClient
    agent: AgentClient
    count: int = 0
    incident_events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def desk(self) -> IncidentDesk:
        desk = running(self.gw.services)
        assert desk is not None
        return desk

    async def ask(self, customer: str, text: str) -> int:
        """A customer's question, stored; its conversation's id."""
        self.count += 1
        accepted = await self.gw.services.accept(InboundMessage("fake", "shop", customer, text, f"m-{self.count}"))
        return accepted.conversation_id

    async def burst(self, text: str, customers: range, prefix: str = "c") -> list[int]:
        """Many customers asking at once."""
        conversations = await asyncio.gather(*(self.ask(f"{prefix}{n}", text) for n in customers))
        await self.settle()
        return list(conversations)

    async def settle(self) -> None:
        """Every message answered and every ask counted (and announced)."""
        await self.gw.services.pipeline.drain()
        await self.desk.drain()

    async def wait_sent(self, check: Callable[[], bool]) -> None:
        async def holds() -> bool:
            return check()

        await wait_for_condition(holds)

    def sent_to(self, customer: str) -> list[str]:
        return [m.text for m in self.gw.fake("shop").sent if m.user_id == customer]

    async def bot_reply(self, conversation_id: int) -> Message:
        reply = await Message.filter(conversation_id=conversation_id, sender="bot").order_by("-id").first()
        assert reply is not None
        return reply


@asynccontextmanager
async def incident_shop(tmp_path: Path, *, database_url: str | None = None, clock: FakeClock | None = None,
                        **sections: Any) -> AsyncIterator[Shop]:
    """The gateway on `clock` (still unless the test moves it), ten customers in ten minutes."""
    incidents = {"min_customers": 10, "window_minutes": 10, **sections.pop("incidents", {})}
    clock = clock or FakeClock(now())
    with use_clock(clock):
        async with running_gateway(tmp_path, database_url=database_url, channels=FAKE, incidents=incidents,
                                   **sections) as gw, aiohttp.ClientSession() as session:
            _, boss = await add_agent("boss", role="supervisor")
            _, plain = await add_agent("plain", role="agent")
            shop = Shop(gw, session, clock, AgentClient(session, gw.url, boss), AgentClient(session, gw.url, plain))
            gw.services.events.observe(lambda e: shop.incident_events.append(e) if e["type"].startswith("incident.") else None)
            yield shop


async def incident_events_on(socket: aiohttp.ClientWebSocketResponse, shop: Shop, timeout: float = 10
                             ) -> list[dict[str, Any]]:
    """The incident events an agent's socket carried until now (read up to a marker published now)."""
    shop.gw.services.events.publish(MARKER, {})
    seen = []

    async def read() -> None:
        while True:
            event = await socket.receive_json()
            if event["type"] == MARKER:
                return
            if event["type"].startswith("incident."):
                seen.append(event)

    await asyncio.wait_for(read(), timeout)
    return seen

"""Types of the escalation and assignment families, the queue's wait estimate, and their timers."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import structlog

from csgw.gateway.reply import ReplyContext

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Classification:
    """A classifier's verdict on one inbound message; the highest priority across classifiers wins."""

    priority: int = 0
    flags: tuple[str, ...] = ()
    handover: bool = False  # a person should take this now (complaint, urgent order, VIP)
    group: str | None = None


class Classifier(Protocol):
    name: str

    async def classify(self, context: ReplyContext) -> Classification | None: ...


@dataclass(frozen=True, slots=True)
class AssignmentRequest:
    conversation_id: int
    customer_id: int
    channel: str
    account: str
    group: str | None
    priority: int
    previous_agent_id: int | None = None
    customer: dict[str, Any] = field(default_factory=dict)  # vip, exclusive_agent_id, state, tags, orders
    flags: dict[str, Any] = field(default_factory=dict)  # the conversation's flags (vip_fallback, …)


@dataclass(frozen=True, slots=True)
class AssignmentDecision:
    """assign: give it to `agent_id`; queue: wait in `group`'s queue; wait: hold for `agent_id`."""

    action: Literal["assign", "queue", "wait"]
    agent_id: int | None = None
    group: str | None = None
    reason: str = ""


class Assigner(Protocol):
    name: str
    priority: int

    async def decide(self, request: AssignmentRequest) -> AssignmentDecision | None: ...


@dataclass(frozen=True, slots=True)
class QueueSpot:
    """Where a queued conversation stands: how many go first and roughly how long until its turn."""

    ahead: int
    agents: int  # online agents who can serve the group
    minutes: int


def estimate_wait(ahead: int, agents: int, handle_seconds: float) -> QueueSpot:
    """Each free agent serves one conversation per `handle_seconds`; round up to whole minutes."""
    seconds = (ahead + 1) * handle_seconds / max(agents, 1)
    return QueueSpot(ahead, agents, max(1, math.ceil(seconds / 60)))


class Ticker:
    """Runs a routing plugin's periodic job (offers, VIP waits, waiting limits) while a gateway is up."""

    _running: dict[tuple[int, str], Ticker] = {}

    def __init__(self, name: str, job: Callable[[], Awaitable[None]], every: float) -> None:
        self.name, self.job, self.every = name, job, every
        self.task: asyncio.Task[None] | None = None

    @classmethod
    def start_for(cls, services: Any, name: str, job: Callable[[], Awaitable[None]], every: float) -> Ticker:
        ticker = cls(name, job, every)
        cls._running[(id(services), name)] = ticker
        ticker.task = asyncio.create_task(ticker._run(), name=f"csgw-{name}")
        return ticker

    @classmethod
    async def stop_for(cls, services: Any, name: str) -> None:
        ticker = cls._running.pop((id(services), name), None)
        if ticker is not None and ticker.task is not None:
            ticker.task.cancel()
            await asyncio.gather(ticker.task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.job()
            except Exception:
                log.exception("routing timer failed; the next tick retries", timer=self.name)
            await asyncio.sleep(self.every)

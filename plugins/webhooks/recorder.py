"""From the event bus to delivery rows: one row per event and endpoint that asked for it.

The observer runs inside `publish`, after the event's cause committed; it queues the rows on the
core's writer at once (in publish order, so a conversation's events keep their order) and
returns. The rows are committed in the writer's next group, a few milliseconds later: a crash in
between loses those events (documented in docs/webhooks.md); once a row is written, it is
delivered or marked failed, whatever restarts.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import structlog

from csgw.gateway.clock import now
from csgw.gateway.storage.plans import Insert, Plan, Select, marks

from .models import TABLE
from .payloads import Occurrence, completed, occurrence

if TYPE_CHECKING:
    from csgw.gateway.ports import Writes

    from .config import Endpoint

log = structlog.get_logger(__name__)

COLUMNS = ("delivery_id", "endpoint", "event", "ordering_key", "body", "state", "attempts", "next_attempt_at",
           "created_at", "updated_at")


class DeliveryRecorder:
    """`observe` is the event bus observer; `recorded` is called after rows were committed."""

    def __init__(self, writer: Writes, endpoints: Sequence[Endpoint], recorded: Callable[[], None]) -> None:
        self.writer = writer
        self.recorded = recorded
        self.routes: dict[str, list[str]] = {}
        for endpoint in endpoints:
            for event in dict.fromkeys(endpoint.events):  # an event named twice is still sent once
                self.routes.setdefault(event, []).append(endpoint.label)
        self._writing: set[asyncio.Task[None]] = set()

    def observe(self, event: dict[str, Any]) -> None:
        occurred = occurrence(event)
        if occurred is None or occurred.event not in self.routes:
            return
        # The task's first step queues the job on the writer: tasks start in creation order.
        task = asyncio.create_task(self._record(occurred, self.routes[occurred.event]))
        self._writing.add(task)
        task.add_done_callback(self._writing.discard)

    async def _record(self, occurred: Occurrence, endpoints: list[str]) -> None:
        try:
            await self.writer.run_batched(record_batch, (occurred, endpoints))
        except Exception as error:
            log.error("webhook deliveries not recorded", webhook_event=occurred.event,
                      ordering_key=occurred.ordering_key, endpoints=len(endpoints), error=repr(error))
            return
        self.recorded()

    async def drain(self) -> None:
        """Wait for the rows already queued (tests; the writer commits them before it closes)."""
        while self._writing:
            await asyncio.gather(*list(self._writing), return_exceptions=True)


def record_batch(items: list[tuple[Occurrence, list[str]]]) -> Plan[list[None]]:
    """Every event queued while the last commit ran: its payloads completed from the store, one
    row per endpoint, in the order the events were published."""
    customers: dict[int, int] = {}
    agents: dict[int, tuple[str, str]] = {}
    conversation_ids = sorted({o.customer_of for o, _ in items if o.customer_of is not None})
    if conversation_ids:
        rows = yield Select(f'SELECT "id", "customer_id" FROM "conversation" WHERE "id" IN '
                            f'({marks(len(conversation_ids))})', conversation_ids)
        customers = {row[0]: row[1] for row in rows}
    agent_ids = sorted({o.agent for o, _ in items if o.agent is not None})
    if agent_ids:
        rows = yield Select(f'SELECT "id", "name", "display_name" FROM "agent" WHERE "id" IN '
                            f'({marks(len(agent_ids))})', agent_ids)
        agents = {row[0]: (row[1], row[2]) for row in rows}
    at = now()
    deliveries = []
    for occurred, endpoints in items:
        data = completed(occurred, customers, agents)
        for endpoint in endpoints:
            delivery_id = str(uuid.uuid4())
            body = json.dumps({"id": delivery_id, "event": occurred.event, "occurred_at": occurred.occurred_at,
                               "data": data}, ensure_ascii=False, separators=(",", ":"))
            deliveries.append([delivery_id, endpoint, occurred.event, occurred.ordering_key, body, "pending", 0,
                               at, at, at])
    yield Insert(TABLE, COLUMNS, deliveries)
    return [None] * len(items)

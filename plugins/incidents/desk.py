"""One gateway's incident desk: every answer the bot decides counts towards what it is about (the
asks are gathered and recorded together, `gathering.py`); enough distinct customers in a window
open an incident (once in the cluster); a supervisor's broadcast answers every further asker while
it is open; quiet incidents are closed on the leading instance. Each change is announced as
`incident.opened`, `incident.updated` or `incident.closed`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from tortoise.expressions import Q, Subquery

from csgw.gateway.clock import now
from csgw.gateway.models import Conversation
from csgw.gateway.reply import Reply

from .gathering import GatheredAsks
from .models import Incident, IncidentAsk
from .plans import (
    Counting,
    Outcome,
    broadcast_plan,
    close_plan,
    notice_plan,
    prune_plan,
    record_asks,
)
from .topics import Ask, asks_in, nearest
from .views import incident_view

if TYPE_CHECKING:
    from csgw.gateway.answers import Decision
    from csgw.gateway.ports import Gateway

    from .config import IncidentsConfig

log = structlog.get_logger(__name__)

SOURCE = "incident"  # a broadcast answer's `payload.source`
KEEP_ASKS_DAYS = 7  # a closed incident's asks and notices stay this long (the incident stays)
BROADCASTS_SECONDS = 2.0  # the open broadcasts are read again after this long


class IncidentDesk:
    """The `ReplyOverride` of the incidents plugin, and what its API and timer call."""

    name = "incidents"

    def __init__(self, services: Gateway, config: IncidentsConfig) -> None:
        self.services = services
        self.config = config
        self.asks = GatheredAsks(self._record)  # waiting to be recorded
        self._broadcasts_read: tuple[float, list[dict[str, Any]]] | None = None  # (when, rows)

    async def override(self, decision: Decision) -> Reply | None:
        asks = asks_in(decision, self.config)
        if not asks:
            return None
        at = now()
        # off the answer's path: the customer's reply never waits for the count
        self.asks.add([Counting(ask, *self.config.threshold(ask.kind), at) for ask in asks])
        found = await self._broadcast_for(asks)
        if found is None:
            return None
        incident_id, revision, text = found
        # an asker answered with the broadcast is not sent that text again as a waiting customer
        await self.services.writer.run_plan(notice_plan, incident_id, revision, at,
                                            [decision.context.conversation_id])
        log.info("incident broadcast answers", incident_id=incident_id,
                 conversation_id=decision.context.conversation_id)
        return broadcast_reply(decision.reply, text, incident_id)

    async def _broadcast_for(self, asks: Sequence[Ask]) -> tuple[int, int, str] | None:
        """The open incident with a broadcast that one of `asks` is about: (id, revision, text)."""
        rows = await self._broadcasts()
        for ask in asks:
            for row in rows:
                if row["kind"] != ask.kind:
                    continue
                same = nearest(ask.key, [row["key"]]) if ask.kind == "unanswered" else row["key"] == ask.key
                if same:
                    return row["id"], row["revision"], row["broadcast"]
        return None

    async def _broadcasts(self) -> list[dict[str, Any]]:
        """The open incidents with a broadcast, read at most every `BROADCASTS_SECONDS` (what this
        instance changes is read again at once; another instance's change within that time)."""
        loop = asyncio.get_running_loop()
        if self._broadcasts_read is None or loop.time() - self._broadcasts_read[0] > BROADCASTS_SECONDS:
            rows = await Incident.filter(closed_at__isnull=True, broadcast__isnull=False) \
                .order_by("opened_at").values("id", "kind", "key", "broadcast", "revision")
            self._broadcasts_read = (loop.time(), rows)
        return self._broadcasts_read[1]

    async def _record(self, items: list[Counting]) -> None:
        try:
            touched = await self.services.writer.run_plan(record_asks, items)
        except Exception as error:
            log.error("incident asks not recorded", asks=len(items), error=repr(error))
            return
        changes = [(item, change) for item, change in zip(items, touched, strict=True) if change is not None]
        if not changes:
            return
        # one read for every incident the gathering opened or grew
        rows = {row.id: row for row in await Incident.filter(id__in=[change.incident_id for _, change in changes])}
        for item, change in changes:
            if change.incident_id in rows:
                self._publish(rows[change.incident_id], "incident.opened" if change.opened else "incident.updated",
                              kind=item.ask.kind)

    async def drain(self) -> None:
        """Record the gathered asks and wait until they are (tests)."""
        await self.asks.drain()

    async def stop(self) -> None:
        await self.asks.stop()

    async def _announce(self, incident_id: int, event: str, *, broadcast_changed: bool = False,
                        **context: object) -> None:
        if broadcast_changed:  # read the open broadcasts again at the next asker, not after a count
            self._broadcasts_read = None
        row = await Incident.get_or_none(id=incident_id)
        if row is not None:
            self._publish(row, event, **context)

    def _publish(self, row: Incident, event: str, **context: object) -> None:
        self.services.events.publish(event, incident_view(row))
        log.info(event, incident_id=row.id, customers=row.customers, **context)

    async def broadcast(self, incident_id: int, text: str, *, notify_waiting: bool, agent_id: int
                        ) -> tuple[Outcome, list[int]]:
        """Publish the answer every further asker gets; with `notify_waiting`, send it once to the
        open conversations counted in the incident. The outcome and the conversations sent it."""
        at = now()
        outcome, revision = await self.services.writer.run_plan(broadcast_plan, incident_id, text, agent_id, at)
        if outcome in ("missing", "closed"):
            return outcome, []
        if outcome == "published":
            await self._announce(incident_id, "incident.updated", broadcast_changed=True, broadcast_by=agent_id)
        if not notify_waiting:
            return outcome, []
        fresh = await self.services.writer.run_plan(notice_plan, incident_id, revision, at)
        for conversation in await Conversation.filter(id__in=fresh).order_by("id"):
            await self.services.say(conversation, text)
        log.info("incident broadcast sent to waiting customers", incident_id=incident_id, conversations=len(fresh))
        return outcome, fresh

    async def close(self, incident_id: int, agent_id: int) -> bool:
        """Close by hand; False when it was closed already."""
        if not await self.services.writer.run_plan(close_plan, incident_id, now(), "hand", agent_id):
            return False
        await self._announce(incident_id, "incident.closed", broadcast_changed=True, closed_by=agent_id)
        return True

    async def close_quiet(self) -> None:
        """The timer's job (on the leading instance): close incidents nobody new asked about for
        `close_after_quiet_minutes`; forget asks no window reaches."""
        at = now()
        quiet_before = at - timedelta(minutes=self.config.close_after_quiet_minutes)
        quiet = await Incident.filter(closed_at__isnull=True, last_asked_at__lt=quiet_before).order_by("id")
        for incident_id in (row.id for row in quiet):
            if await self.services.writer.run_plan(close_plan, incident_id, at, "quiet", None, quiet_before):
                await self._announce(incident_id, "incident.closed", broadcast_changed=True, reason="quiet")
        asks_before = at - timedelta(seconds=self.config.longest_window_seconds)
        closed_before = at - timedelta(days=KEEP_ASKS_DAYS)
        # read first: a tick with nothing to forget takes no write lock (SQLite: no wait for others)
        forgotten = Subquery(Incident.filter(closed_at__lt=closed_before).values("id"))
        if await IncidentAsk.filter(Q(incident_id__isnull=True, asked_at__lt=asks_before)
                                    | Q(incident_id__in=forgotten)).exists():
            await self.services.writer.run_plan(prune_plan, asks_before, closed_before)


def broadcast_reply(decided: Reply | None, text: str, incident_id: int) -> Reply:
    """The broadcast in the decided reply's place: what it said goes, what it decided stays (the
    entry, a hand-over, tags); the bot's memory is left as it was (no menu was shown)."""
    payload: dict[str, object] = {"incident_id": incident_id}
    if decided is None:
        return Reply(text, source=SOURCE, payload=payload)
    if "category" in decided.payload:  # the report still counts the question under its category
        payload["category"] = decided.payload["category"]
    return replace(decided, text=text, source=SOURCE, payload=payload, bot_state=None)

"""Waiting-time limits: a conversation left unanswered too long is escalated (priority up, event,
webhook, log line, supervisor group) and counted as an SLA miss. What a miss is, `gateway/sla.py`
defines for this timer and for the report alike."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from tortoise.functions import Max

from csgw.config.schema import EscalationSettings
from csgw.gateway.clock import now
from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.models import CUSTOMER_DIRECTIONS, Conversation, Message
from csgw.gateway.ports import ConversationOps
from csgw.gateway.sla import limit_for, waited_seconds
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.storage.plans import json_value
from csgw.gateway.storage.timestamps import as_datetime
from csgw.gateway.views import conversation_view

if TYPE_CHECKING:
    import aiohttp

log = structlog.get_logger(__name__)

CHUNK = 500  # conversation ids per query: well under every engine's limit on parameters


def waiting_for(first_response_at: object, handed_over: datetime,
                latest: tuple[str, datetime] | None) -> tuple[str, datetime | None]:
    """What a customer waits for and since when: the first response since the hand-over; after it,
    a next response since their latest message when that is the conversation's latest exchange
    (`latest`: its direction and time; an agents' note answers nobody, so it is not one)."""
    if first_response_at is None:
        return "first_response", handed_over
    if latest is not None and latest[0] == "in":
        return "next_response", latest[1]
    return "next_response", None


async def latest_exchanges(conversation_ids: list[int]) -> dict[int, tuple[str, datetime]]:
    """Each conversation's latest message to or from the customer: (direction, created_at)."""
    latest: dict[int, tuple[str, datetime]] = {}
    for start in range(0, len(conversation_ids), CHUNK):
        chunk = conversation_ids[start:start + CHUNK]
        last_ids = await Message.filter(conversation_id__in=chunk, direction__in=CUSTOMER_DIRECTIONS).group_by(
            "conversation_id").annotate(last=Max("id")).values_list("last", flat=True)
        for conversation_id, direction, created_at in await Message.filter(id__in=list(last_ids)).values_list(
                "conversation_id", "direction", "created_at"):
            latest[conversation_id] = (direction, created_at)
    return latest


# A customer's message can raise a waiting conversation's priority, and with it shorten its limit:
# these sums move then, and the queue is read again at the next tick.
PRIORITIES = ('SELECT COALESCE(SUM("priority"), 0) AS "sum", COALESCE(SUM("id" * "priority"), 0) AS "weighted" '
              'FROM "conversation" WHERE "state" IN (:queued, :assigned)')


class WaitingLimits:
    """Reads the waiting conversations only when one may have reached its limit: each read says
    when the soonest could (open time runs no faster than the clock), and a wait that begins later
    cannot end before the shortest limit of all. Until then a tick costs one sum of priorities."""

    def __init__(self, conversations: ConversationOps, rules: EscalationSettings,
                 http: aiohttp.ClientSession | None, hours: DeskHours | None = None) -> None:
        self.conversations, self.rules, self.http, self.hours = conversations, rules, http, hours
        limits = [*rules.first_response_seconds.values(), *rules.next_response_seconds.values()]
        self._shortest = min(limits) if limits else None
        self._next_read: datetime | None = None
        self._priorities: tuple[object, ...] | None = None  # `PRIORITIES` at the last read

    async def tick(self) -> None:
        """One read of the queue and one of the latest customer-side messages, however long the
        queue: what each conversation waits for is decided from those rows (`waiting_for`)."""
        if self._shortest is None:
            return  # no limits: nothing is ever missed
        at = now()
        [sums] = await Sql().rows(PRIORITIES, queued="queued", assigned="assigned")
        priorities = (sums["sum"], sums["weighted"])
        if self._next_read is not None and at < self._next_read and priorities == self._priorities:
            return
        breached = []
        soonest = self._shortest  # seconds until a limit may be reached
        # raw rows: tortoise's timestamp parsing of a long queue every tick was most of its cost
        rows = await Sql().rows('SELECT "id", "priority", "group", "channel", "account", "first_response_at", '
                                '"waiting_since", "opened_at", "flags" FROM "conversation" '
                                'WHERE "state" IN (:queued, :assigned)', queued="queued", assigned="assigned")
        latest = await latest_exchanges([row["id"] for row in rows if row["first_response_at"] is not None])
        for row in rows:
            handed_over = as_datetime(row["waiting_since"] or row["opened_at"])
            assert handed_over is not None  # opened_at is never empty
            kind, since = waiting_for(row["first_response_at"], handed_over, latest.get(row["id"]))
            table = self.rules.first_response_seconds if kind == "first_response" else self.rules.next_response_seconds
            limit = limit_for(table, row["priority"])
            if since is None or limit is None:
                continue
            if (at - since).total_seconds() < limit:
                # open time never runs ahead of the clock: this wait cannot have reached it
                soonest = min(soonest, limit - (at - since).total_seconds())
                continue
            last = ((json_value(row["flags"]) or {}).get("sla") or {}).get("at")
            start = max(since, datetime.fromisoformat(last)) if last else since
            schedule = (self.hours.schedule_for(row["group"], row["channel"], row["account"])
                        if self.hours is not None else None)
            waited = waited_seconds(schedule, start, at)
            if waited >= limit:
                breached.append((row["id"], kind, waited_seconds(schedule, since, at)))
            else:
                soonest = min(soonest, limit - waited)
        for conversation_id, kind, waited in breached:
            await self.escalate(conversation_id, kind, waited)
        if breached:
            await self.conversations.dispatch_queue()
        self._next_read, self._priorities = at + timedelta(seconds=soonest), priorities

    @staticmethod
    async def waiting(conversation: Conversation) -> tuple[str, datetime | None]:
        """What the customer waits for (first or next response) and since when; None if nothing."""
        latest = await latest_exchanges([conversation.id]) if conversation.first_response_at else {}
        return waiting_for(conversation.first_response_at, conversation.waiting_since or conversation.opened_at,
                           latest.get(conversation.id))

    async def escalate(self, conversation_id: int, kind: str, waited: float) -> None:
        conversations = self.conversations
        async with conversations.queue_lock():
            conversation = await Conversation.get(id=conversation_id)
            if conversation.state not in ("queued", "assigned"):
                return
            flags = dict(conversation.flags or {})
            breaches = int((flags.get("sla") or {}).get("breaches", 0)) + 1
            flags["sla"] = {"breaches": breaches, "kind": kind, "at": now().isoformat()}
            flags["sla_missed"] = True
            values: dict[str, Any] = {"priority": conversation.priority + self.rules.breach_priority_step,
                                      "flags": flags}
            if conversation.state == "queued" and self.rules.supervisor_group:
                values["group"] = self.rules.supervisor_group
            await conversations.update(conversation, "escalated", **values)
        log.warning("waiting limit breached", conversation_id=conversation.id, channel=conversation.channel,
                    account=conversation.account, kind=kind, waited_seconds=round(waited),
                    priority=conversation.priority, group=conversation.group, breaches=breaches)
        await self.call_webhook(conversation, kind, waited)

    async def call_webhook(self, conversation: Conversation, kind: str, waited: float) -> None:
        if not self.rules.webhook_url or self.http is None:
            return
        body = {"type": "conversation.escalated", "kind": kind, "waited_seconds": round(waited),
                "conversation": conversation_view(conversation)}
        try:
            async with self.http.post(self.rules.webhook_url, json=body) as response:
                if response.status >= 400:
                    log.warning("escalation webhook refused", status=response.status, conversation_id=conversation.id)
        except Exception as error:  # the breach is recorded either way; the webhook is best effort
            log.warning("escalation webhook failed", error=repr(error), conversation_id=conversation.id)

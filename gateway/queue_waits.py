"""How long a queued customer waits: how many of their group go first, and the expected wait from
the group's recent handling times (`default` seconds a conversation until there are some)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from csgw.gateway.assignment_view import AssignmentView, QueuePlace
from csgw.gateway.models import Agent, Conversation
from csgw.gateway.routing import QueueSpot, estimate_wait, places_in_queue
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.storage.timestamps import as_datetime, in_utc

RECENT = 20  # closed conversations of a group its handling time is averaged over


async def queue_spot(conversation_id: int, group: str | None, priority: int, waiting_since: datetime,
                     default: float) -> QueueSpot:
    """A queued conversation's place: the queued ones of its group that go first (counted as a
    hand-over counts them, `AssignmentView.read_places`), and the wait."""
    view = AssignmentView({}, {}, tracked={conversation_id})  # itself left out of the count
    await view.read_places({conversation_id: QueuePlace(group, priority, in_utc(waiting_since))})
    online = await Agent.filter(status="online")
    agents = [a for a in online if group is None or group in (a.skills or [])]
    return estimate_wait(view.counted[conversation_id][1], len(agents), await handle_seconds(group, default))


async def queue_spots(default: float) -> dict[int, QueueSpot]:
    """`queue_spot` of every queued conversation, from one read of the queue (the timers ask
    for all of them: one count per conversation would cost the queue's length squared)."""
    rows = await Sql().rows('SELECT "id", "group", "priority", COALESCE("waiting_since", "opened_at") AS "since" '
                            'FROM "conversation" WHERE "state" = :queued', queued="queued")
    ahead = places_in_queue((row["id"], row["group"], row["priority"], cast(datetime, as_datetime(row["since"])))
                            for row in rows)  # opened_at is never empty
    online = await Agent.filter(status="online")
    handle: dict[str | None, float] = {}
    agents: dict[str | None, int] = {}
    spots: dict[int, QueueSpot] = {}
    for row_id, group in ((row["id"], row["group"]) for row in rows):
        if group not in handle:
            handle[group] = await handle_seconds(group, default)
            agents[group] = sum(1 for a in online if group is None or group in (a.skills or []))
        spots[row_id] = estimate_wait(ahead[row_id], agents[group], handle[group])
    return spots


async def handle_seconds(group: str | None, default: float) -> float:
    """Seconds from assignment to close, averaged over the group's latest closed conversations."""
    query = Conversation.filter(state="closed", assigned_at__isnull=False, closed_at__isnull=False)
    recent = await (query.filter(group=group) if group else query).order_by("-id").limit(RECENT)
    spans = [(c.closed_at - c.assigned_at).total_seconds() for c in recent if c.closed_at and c.assigned_at]
    spans = [s for s in spans if s > 0]
    return sum(spans) / len(spans) if spans else default

"""Queued customers hear when their place in the queue moves: at least one place, at most once
per `[assignment] queue_update_seconds` per conversation; never while the desk is closed for
them (`[hours]`): nothing moves at night, and they were told when people are back."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from csgw.gateway.clock import now
from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.messages import DraftReply
from csgw.gateway.models import Conversation
from csgw.gateway.ports import ConversationOps
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.texts import Texts
from csgw.plugins.assignment.texts import assignment_texts

log = structlog.get_logger(__name__)


# What the places in the queue are made of, summed up by the database from the queue's index: when
# it is as at the last scan and that scan left nobody to tell later, no place has moved since and the
# scan is skipped. A queue at rest costs this one aggregate per scan, not a read of every row.
QUEUE_SUMMARY = (
    'SELECT COUNT(*) AS "queued", COUNT("agent_id") AS "held", COALESCE(SUM("id"), 0) AS "ids", '
    'COALESCE(SUM("id" * "priority"), 0) AS "priorities", '
    'COALESCE(SUM(LENGTH(COALESCE("group", \'\'))), 0) AS "groups", '
    'MIN("waiting_since") AS "first", MAX("waiting_since") AS "last" '
    'FROM "conversation" WHERE "state" = :queued')


class QueuePositionNotices:
    """The queue is read once per scan, at most every quarter of `every`: a place can only be told
    once per `every` anyway, so a notice is at most that much late, and a long queue costs one read
    per scan, not one per conversation and tick; none while the queue is as it was at a scan that
    left nobody waiting to be told (`QUEUE_SUMMARY`)."""

    def __init__(self, conversations: ConversationOps, every: float, texts: Texts | None = None,
                 hours: DeskHours | None = None) -> None:
        self.conversations, self.every, self.hours = conversations, every, hours
        self.texts = texts or assignment_texts()
        self._scanned: datetime | None = None
        self._settled: tuple[object, ...] | None = None  # the queue's summary when nobody was left to tell

    async def tick(self) -> int:
        """Tell every queued customer whose place moved and who was not told lately; how many were told."""
        if not self.every:
            return 0
        at = now()
        if self._scanned is not None and at - self._scanned < timedelta(seconds=self.every / 4):
            return 0
        self._scanned = at
        conversations = self.conversations
        told = 0
        later = False  # someone whose place moved is to be told at a later scan
        # Under the lock: the queue cannot move, nor the flags change, between reading and writing.
        async with conversations.queue_lock():
            [row] = await Sql().rows(QUEUE_SUMMARY, queued="queued")
            summary = tuple(row[key] for key in ("queued", "held", "ids", "priorities", "groups", "first", "last"))
            if summary == self._settled:
                return 0
            spots = await conversations.queue_spots()
            waiting = await Conversation.filter(state="queued", agent_id__isnull=True).values_list(
                "id", "group", "channel", "account", "flags")
            for conversation_id, group, channel, account, flags in waiting:
                last = (flags or {}).get("queue_told")
                spot = spots.get(conversation_id)
                if spot is None or (last and last["ahead"] == spot.ahead):
                    continue
                if (self.hours is not None and self.hours.closed(group, channel, account, at)) or (
                        last and at - datetime.fromisoformat(last["at"]) < timedelta(seconds=self.every)):
                    later = True
                    continue
                conversation = await Conversation.get(id=conversation_id)  # only those told: few
                flags = {**(conversation.flags or {}), "queue_told": {"ahead": spot.ahead, "at": at.isoformat()}}
                language = conversations.language_for(channel, account)
                note = self.texts.render("queue.position", language, ahead=spot.ahead, minutes=spot.minutes)
                await conversations.tell(conversation, "queue_position", [DraftReply(note, "system")], flags=flags)
                log.info("queue position told", conversation_id=conversation_id, ahead=spot.ahead,
                         before=last["ahead"] if last else None)
                told += 1
            self._settled = None if later else summary
        return told

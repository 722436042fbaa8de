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
from csgw.gateway.texts import Texts
from csgw.plugins.assignment.texts import assignment_texts

log = structlog.get_logger(__name__)


class QueuePositionNotices:
    def __init__(self, conversations: ConversationOps, every: float, texts: Texts | None = None,
                 hours: DeskHours | None = None) -> None:
        self.conversations, self.every, self.hours = conversations, every, hours
        self.texts = texts or assignment_texts()

    async def tick(self) -> int:
        """Tell every queued customer whose place moved and who was not told lately; how many were told."""
        if not self.every:
            return 0
        conversations = self.conversations
        told = 0
        # Under the lock: the queue cannot move, nor the flags change, between reading and writing.
        async with conversations.queue_lock():
            at = now()
            for conversation in await Conversation.filter(state="queued", agent_id__isnull=True):
                if self.hours is not None and self.hours.closed(conversation.group, conversation.channel,
                                                                conversation.account, at):
                    continue
                last = (conversation.flags or {}).get("queue_told")
                if last and at - datetime.fromisoformat(last["at"]) < timedelta(seconds=self.every):
                    continue
                spot = await conversations.queue_spot(conversation, conversation.group, conversation.priority,
                                                      conversation.waiting_since or conversation.opened_at)
                if last and last["ahead"] == spot.ahead:
                    continue
                flags = {**(conversation.flags or {}), "queue_told": {"ahead": spot.ahead, "at": at.isoformat()}}
                language = conversations.language_for(conversation.channel, conversation.account)
                note = self.texts.render("queue.position", language, ahead=spot.ahead, minutes=spot.minutes)
                await conversations.tell(conversation, "queue_position", [DraftReply(note, "system")], flags=flags)
                log.info("queue position told", conversation_id=conversation.id, ahead=spot.ahead,
                         before=last["ahead"] if last else None)
                told += 1
        return told

"""A VIP whose exclusive agent is busy or away is held for that agent, up to `[assignment]
vip_wait_seconds`, then falls back to the group's queue ("vip_fallback") and hears so.

The hold is a "wait" decision carrying the flag "vip_wait_until" (a hand-over flag) and, the first
time only, the customer's note.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog

from csgw.gateway.clock import now
from csgw.gateway.messages import DraftReply
from csgw.gateway.models import Agent, Conversation
from csgw.gateway.ports import ConversationOps
from csgw.gateway.texts import Texts
from csgw.plugins.assignment.texts import assignment_texts

log = structlog.get_logger(__name__)

WAIT_UNTIL = "vip_wait_until"
FALLBACK = "vip_fallback"


def hold(agent: Agent, flags: dict[str, Any], seconds: float, texts: Texts,
         language: str) -> tuple[dict[str, Any], str | None]:
    """(flags, note) of a hold for `agent`: a hold already running keeps its deadline and says nothing."""
    if WAIT_UNTIL in flags:
        return {WAIT_UNTIL: flags[WAIT_UNTIL]}, None
    note = texts.render("vip.waiting", language, agent=agent.display_name or agent.name,
                        minutes=max(1, round(seconds / 60)))
    return {WAIT_UNTIL: (now() + timedelta(seconds=seconds)).isoformat()}, note


async def expire_waits(conversations: ConversationOps, texts: Texts | None = None) -> int:
    """Conversations that waited their limit for an exclusive agent fall back to the group."""
    texts = texts or assignment_texts()
    at = now()
    expired = [c for c in await Conversation.filter(state="queued", agent_id__isnull=False)
               if (c.flags or {}).get(WAIT_UNTIL) and datetime.fromisoformat(c.flags[WAIT_UNTIL]) <= at]
    if not expired:
        return 0
    async with conversations.queue_lock():
        for conversation in expired:
            flags = {k: v for k, v in (conversation.flags or {}).items() if k != WAIT_UNTIL}
            log.info("exclusive agent wait ended", conversation_id=conversation.id, agent_id=conversation.agent_id)
            language = conversations.language_for(conversation.channel, conversation.account)
            await conversations.tell(conversation, FALLBACK,
                                     [DraftReply(texts.render("vip.fallback", language), "system")],
                                     agent_id=None, flags={**flags, FALLBACK: True})
    await conversations.dispatch_queue()
    return len(expired)

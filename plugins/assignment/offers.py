"""Offers: with `[assignment] offer_timeout_seconds`, an assignment is an offer until the agent
answers; one not answered in time goes back to the queue and the agent who let it lapse is away.

The offer is the flag "offer" ({agent_id, until}) on the assign decision; it is a hand-over flag,
so taking, transferring or requeuing the conversation ends it (see `csgw.gateway.routing`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from csgw.gateway.clock import now
from csgw.gateway.models import Agent, Conversation
from csgw.gateway.ports import ConversationOps

OFFER = "offer"


def offer_flags(agent_id: int, timeout: float) -> dict[str, Any]:
    """The flags an assignment carries: none when offers are off."""
    if not timeout:
        return {}
    return {OFFER: {"agent_id": agent_id, "until": (now() + timedelta(seconds=timeout)).isoformat()}}


async def expire_offers(conversations: ConversationOps) -> int:
    """Offers not taken in time go back to the queue; the agent who let them lapse is away."""
    at = now()
    lapsed = [c for c in await Conversation.filter(state="assigned", first_response_at__isnull=True)
              if (c.flags or {}).get(OFFER) and datetime.fromisoformat(c.flags[OFFER]["until"]) <= at]
    for agent_id in sorted({c.agent_id for c in lapsed if c.agent_id is not None}):
        agent = await Agent.get_or_none(id=agent_id)
        if agent is not None:  # away hands back every offer the agent still holds
            await conversations.set_agent_status(agent, "away" if agent.status == "online" else agent.status,
                                                 reason="offer lapsed")
    return len(lapsed)

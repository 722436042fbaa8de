"""The assignment timer: lapsed offers, expired VIP waits, idle conversations, agents gone quiet,
agents changed by the CLI."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from csgw.gateway.clock import now
from csgw.gateway.conversations import ConversationError
from csgw.gateway.models import Agent, Conversation
from csgw.gateway.presence import bring_back_active
from csgw.plugins.assignment.queue_notices import QueuePositionNotices

log = structlog.get_logger(__name__)


class AssignmentTimer:
    def __init__(self, services: Any) -> None:
        self.services = services
        self.rules = services.settings.assignment
        self._known: dict[int, tuple[Any, ...]] | None = None
        self.queue_notices = QueuePositionNotices(services)

    async def tick(self) -> None:
        conversations = self.services.conversations
        await self.mark_quiet_agents_away()
        await bring_back_active(self.services)
        await self.notice_changes_from_outside()
        if self.rules.offer_timeout_seconds:
            await conversations.expire_offers()
        await conversations.expire_waits()
        await self.close_idle_conversations()
        await self.queue_notices.tick()

    async def mark_quiet_agents_away(self) -> None:
        """No API call or heartbeat for `away_after_seconds`: the agent is away, their offers go back."""
        if not self.rules.away_after_seconds:
            return
        cutoff = now() - timedelta(seconds=self.rules.away_after_seconds)
        for agent in await Agent.filter(status="online", last_seen_at__lt=cutoff):
            await self.services.conversations.set_agent_status(agent, "away", reason="inactive")

    async def close_idle_conversations(self) -> None:
        """Silent for `idle_close_seconds`: closed; the customer's next message opens a new one, bot first."""
        if not self.rules.idle_close_seconds:
            return
        cutoff = now() - timedelta(seconds=self.rules.idle_close_seconds)
        for conversation in await Conversation.filter(state__not="closed", last_message_at__lt=cutoff):
            log.info("closing idle conversation", conversation_id=conversation.id, channel=conversation.channel,
                     account=conversation.account)
            try:
                await self.services.conversations.close(conversation)
            except ConversationError:  # closed meanwhile by an agent
                continue

    async def notice_changes_from_outside(self) -> None:
        """`csgw agents status/set` write the database directly; react as if the API had been called."""
        agents = await Agent.all()
        seen = {a.id: (a.status, a.max_concurrent, tuple(a.skills or [])) for a in agents}
        known, self._known = self._known, seen
        if known is None:
            return
        for agent in agents:
            if known.get(agent.id) != seen[agent.id]:
                await self.services.conversations.agent_changed(agent)

"""The assignment timer: lapsed offers, expired VIP waits, shifts opening, idle conversations,
agents gone quiet or back, agents changed by the CLI, queue-position notices."""

from __future__ import annotations

from csgw.config.schema import AssignmentSettings
from csgw.gateway.clock import now
from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.models import Agent
from csgw.gateway.ports import ConversationOps
from csgw.gateway.texts import Texts
from csgw.plugins.assignment.idle_close import close_idle
from csgw.plugins.assignment.offers import expire_offers
from csgw.plugins.assignment.presence import bring_back_active, mark_quiet_agents_away
from csgw.plugins.assignment.queue_notices import QueuePositionNotices
from csgw.plugins.assignment.shifts import ShiftOpenings
from csgw.plugins.assignment.texts import assignment_texts
from csgw.plugins.assignment.vip_waits import expire_waits

AgentState = tuple[str, int, tuple[str, ...]]


class AssignmentTimer:
    def __init__(self, conversations: ConversationOps, rules: AssignmentSettings, texts: Texts | None = None,
                 hours: DeskHours | None = None) -> None:
        self.conversations, self.rules = conversations, rules
        self.texts = texts or assignment_texts()
        self.hours = hours
        self._known: dict[int, AgentState] | None = None
        self.queue_notices = QueuePositionNotices(conversations, rules.queue_update_seconds, self.texts, hours)
        self.shifts = ShiftOpenings(conversations, hours) if hours is not None and hours.configured else None

    async def tick(self) -> None:
        await mark_quiet_agents_away(self.conversations, self.rules.away_after_seconds)
        await bring_back_active(self.conversations)
        await self.notice_changes_from_outside()
        if self.rules.offer_timeout_seconds:
            await expire_offers(self.conversations)
        await expire_waits(self.conversations, self.texts)
        if self.shifts is not None:
            await self.shifts.tick()
        await self.close_idle_conversations()
        await self.queue_notices.tick()

    async def close_idle_conversations(self) -> None:
        """Silent for `idle_close_seconds` while waiting on the customer: closed (`idle_close.py`);
        the customer's next message opens a new one, bot first."""
        if not self.rules.idle_close_seconds:
            return
        await close_idle(self.conversations, now(), self.rules.idle_close_seconds, self.hours)

    async def notice_changes_from_outside(self) -> None:
        """`csgw agents status/set` write the database directly; react as if the API had been called."""
        agents = await Agent.all()
        seen = {a.id: (a.status, a.max_concurrent, tuple(a.skills or [])) for a in agents}
        known, self._known = self._known, seen
        if known is None:
            return
        for agent in agents:
            if known.get(agent.id) != seen[agent.id]:
                await self.conversations.agent_changed(agent)

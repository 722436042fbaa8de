"""A shift opening serves the queue that waited for it, at once: `dispatch_queue` hands the
conversations out highest priority first, then oldest first, as free agents take them."""

from __future__ import annotations

import structlog

from csgw.gateway.clock import now
from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.ports import ConversationOps

log = structlog.get_logger(__name__)


class ShiftOpenings:
    def __init__(self, conversations: ConversationOps, hours: DeskHours) -> None:
        self.conversations, self.hours = conversations, hours
        self._open: tuple[bool, ...] | None = None  # each schedule's state at the last tick

    async def tick(self) -> int:
        """Serve the queue when a schedule opened since the last tick (or, at the first tick, is
        open: an opening may have passed while no instance ran the timer); how many were assigned."""
        at = now()
        state = tuple(schedule.is_open(at) for schedule in self.hours.schedules())
        before, self._open = self._open, state
        opened = any(state) if before is None else any(o and not b for o, b in zip(state, before, strict=True))
        if not opened:
            return 0
        assigned = await self.conversations.dispatch_queue()
        log.info("shift opened", assigned=assigned)
        return assigned

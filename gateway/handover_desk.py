"""The hand-over desk: hand-overs waiting together are decided in one hold of the queue lock and
written in one commit.

Each hand-over used to take the queue lock alone, read what its decision needed query by query and
commit under it: under load they queued for the lock for hundreds of milliseconds, one commit each
(docs/performance.md). The desk takes every hand-over submitted while the previous ones were being
decided, takes the lock once, reads what they all need in a few queries (`AssignmentView`), decides
each in turn from that view (updated by each decision, so an agent's capacity holds), writes all of
them at once (their writes join one commit of the writer), and only then releases the lock.

What each hand-over relied on under the lock holds for each here: a conversation queued or assigned
meanwhile (by another message, on another instance) is left to its person; on a shared PostgreSQL
the lock holds across instances. When an assigner reads the store itself (no `reads_view`), each
hand-over is written before the next is decided, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from csgw.gateway.assignment_view import AssignmentView

if TYPE_CHECKING:
    from csgw.gateway.conversations import ConversationService, HandoverAsk
    from csgw.gateway.messages import DraftReply, OutboundMessage

log = structlog.get_logger(__name__)

# Stores the message's replies and the conversation's change, and marks the message answered.
Record = Callable[[list["DraftReply"], dict[str, Any]], Awaitable[list["OutboundMessage"]]]


@dataclass(slots=True)
class Handover:
    """A message's answer that hands its conversation over: the bot's own replies and change
    (`drafts`, `update`), to which the decision adds its own."""

    ask: HandoverAsk
    message_id: int
    drafts: list[DraftReply]
    update: dict[str, Any]
    record: Record


@dataclass(frozen=True, slots=True)
class HandedOver:
    outbound: list[OutboundMessage]
    handed: bool  # False: a person had the conversation already; only the message was stored


class HandoverDesk:
    def __init__(self, conversations: ConversationService) -> None:
        self.conversations = conversations
        self._waiting: list[tuple[Handover, asyncio.Future[HandedOver]]] = []
        self._serving: asyncio.Task[None] | None = None

    async def hand_over(self, handover: Handover) -> HandedOver:
        """Decided and written with the hand-overs waiting with it; returns once committed and the
        queue lock released."""
        future: asyncio.Future[HandedOver] = asyncio.get_running_loop().create_future()
        self._waiting.append((handover, future))
        if self._serving is None:
            self._serving = asyncio.create_task(self._serve(), name="csgw-handover-desk")
        return await future

    async def _serve(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    outcomes = await self._decide_and_write([handover for handover, _ in batch])
                except BaseException as error:
                    for _, future in batch:
                        _settle(future, error)
                    if not isinstance(error, Exception):
                        raise
                    log.exception("hand-overs failed", count=len(batch))
                    continue
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    _settle(future, outcome)
        finally:
            self._serving = None

    async def _decide_and_write(self, batch: list[Handover]) -> list[HandedOver | BaseException]:
        service = self.conversations
        outcomes: dict[int, HandedOver | BaseException] = {}
        async with service.queue_lock():
            view = await AssignmentView.read([handover.ask.conversation for handover in batch])
            taken = set(view.with_a_person)
            fresh: list[Handover] = []
            meanwhile: list[Handover] = []
            for handover in batch:
                conversation = handover.ask.conversation
                (meanwhile if conversation.id in taken else fresh).append(handover)
                taken.add(conversation.id)  # a second message of it in the batch finds it handed over
            for handover in meanwhile:
                # Handed over meanwhile by another message's answer (on another instance): as when
                # a person has it, stored and left to them; the customer is told once.
                log.info("conversation handed over meanwhile", conversation_id=handover.ask.conversation.id,
                         message_id=handover.message_id)
            parts = ([fresh] if service.decides_together else [[handover] for handover in fresh]) or [[]]
            for number, part in enumerate(parts):  # after the first part, the view is read again
                outcomes.update(await self._write(part, meanwhile if number == 0 else [], view if number == 0 else None))
        return [outcomes[id(handover)] for handover in batch]

    async def _write(self, part: Sequence[Handover], meanwhile: Sequence[Handover], view: AssignmentView | None
                     ) -> dict[int, HandedOver | BaseException]:
        """Decide `part` from one view (`view`, else read now); write their changes and the
        `meanwhile` messages together."""
        service = self.conversations
        planned: list[tuple[list[DraftReply], dict[str, Any]]] = []
        if part:
            try:
                planned, view = await service.plan_handovers([handover.ask for handover in part], view)
            except Exception as error:  # one bad decision must not fail the others
                return await self._one_by_one(part, meanwhile, error)
        else:
            view = None
        stamping = asyncio.ensure_future(service.stamp_agents(view)) if view is not None else None
        writes = [handover.record(handover.drafts + drafts, {**handover.update, **update})
                  for handover, (drafts, update) in zip(part, planned, strict=True)]
        writes += [handover.record([], {}) for handover in meanwhile]
        results = await asyncio.gather(*writes, return_exceptions=True)  # queued at once: one commit
        if stamping is not None:
            try:
                await stamping
            except Exception:
                log.exception("agents' assignment times not written")
        handed = [True] * len(part) + [False] * len(meanwhile)
        return {id(handover): result if isinstance(result, BaseException) else HandedOver(result, was_handed)
                for handover, result, was_handed in zip([*part, *meanwhile], results, handed, strict=True)}

    async def _one_by_one(self, part: Sequence[Handover], meanwhile: Sequence[Handover], error: Exception
                          ) -> dict[int, HandedOver | BaseException]:
        """Decide and write each of `part` alone, after deciding them together failed with `error`."""
        if len(part) == 1:
            outcomes: dict[int, HandedOver | BaseException] = {id(part[0]): error}
        else:
            log.warning("hand-overs decided together failed, deciding them one by one", count=len(part),
                        error=repr(error))
            outcomes = {}
            for handover in part:
                outcomes.update(await self._write([handover], [], None))
        if meanwhile:
            outcomes.update(await self._write([], meanwhile, None))
        return outcomes


def _settle(future: asyncio.Future[HandedOver], outcome: HandedOver | BaseException) -> None:
    if future.done():  # its submitter was cancelled
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)

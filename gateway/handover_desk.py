"""The hand-over desk: hand-overs decided in one hold of the queue lock, from one view, and
written together.

Each hand-over used to take the queue lock alone, read what its decision needed query by query and
commit under it: under load they queued for the lock for hundreds of milliseconds, one commit each
(docs/performance.md). The desk takes the lock once for every hand-over waiting, reads what they
need in a few queries (`AssignmentView`), decides each in turn from that view (updated by each
decision: an agent's capacity holds, two conversations queued together hear different places) and
queues their writes at once (they join one commit). While the lock is held, hand-overs arriving
meanwhile are decided from the same view (only their customers are read) without waiting for the
commit before them; each one's answer goes once its own write has committed. After `HOLD_SECONDS`
(or a write that failed) the desk takes no more, waits for what it wrote, and releases the lock:
others waiting for it get it, and the next hold reads the view afresh.

What each hand-over relied on under the lock holds for each here: a conversation queued or assigned
meanwhile (by another message, on another instance) is left to its person; on a shared PostgreSQL
the lock holds across instances. When an assigner reads the store itself (no `reads_view`), each
hand-over is committed before the next is decided.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import structlog

from csgw.gateway.assignment_view import AssignmentView

if TYPE_CHECKING:
    from csgw.gateway.conversations import ConversationService, HandoverAsk
    from csgw.gateway.messages import DraftReply, OutboundMessage

log = structlog.get_logger(__name__)

# A hold of the queue lock takes no new hand-overs after this long: whoever else waits for the lock
# gets it, and the next hold reads the view afresh (closes and agents' changes made meanwhile).
HOLD_SECONDS = 0.1

# Stores the message's replies and the conversation's change, and marks the message answered.
Record = Callable[[list["DraftReply"], dict[str, Any]], Awaitable[list["OutboundMessage"]]]


@dataclass(slots=True)
class Handover:
    """A message's answer that hands its conversation over: the bot's own replies and change
    (`drafts`, `update`), to which the decision adds its own."""

    ask: HandoverAsk
    message_id: int | None  # None: stored by `record`, with the hand-over
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
        self._arrived = asyncio.Event()
        self._serving: asyncio.Task[None] | None = None

    async def hand_over(self, handover: Handover) -> HandedOver:
        """Decided with the hand-overs waiting with it; returns once its write has committed."""
        future: asyncio.Future[HandedOver] = asyncio.get_running_loop().create_future()
        self._waiting.append((handover, future))
        self._arrived.set()
        if self._serving is None:
            self._serving = asyncio.create_task(self._serve(), name="csgw-handover-desk")
        return await future

    async def _serve(self) -> None:
        try:
            while self._waiting:
                try:
                    await self._hold()
                except Exception as error:  # the lock could not be taken: nothing was decided
                    log.exception("hand-overs failed", count=len(self._waiting))
                    batch, self._waiting = self._waiting, []
                    for _, future in batch:
                        _settle(future, error)
        finally:
            self._serving = None
            for _, future in self._waiting:
                future.cancel()
            self._waiting = []

    async def _hold(self) -> None:
        loop = asyncio.get_running_loop()
        hold = Hold(self.conversations)
        async with self.conversations.queue_lock():
            try:
                ends, first = loop.time() + HOLD_SECONDS, True
                while True:
                    taking = first or (not hold.failed and loop.time() < ends)
                    if self._waiting and taking:
                        batch, self._waiting, first = self._waiting, [], False
                        self._arrived.clear()
                        await hold.take(batch)
                        continue
                    if not hold.writing:
                        return
                    arrival = asyncio.ensure_future(self._arrived.wait()) if taking else None
                    await asyncio.wait({*hold.writing, *([arrival] if arrival else [])},
                                       return_when=asyncio.FIRST_COMPLETED)
                    if arrival is not None:
                        arrival.cancel()
            finally:  # the lock is released only once what was decided under it is written
                if hold.writing:
                    await asyncio.wait(set(hold.writing))


class Hold:
    """What one hold of the queue lock decided: the view, and the writes not yet committed."""

    def __init__(self, conversations: ConversationService) -> None:
        self.conversations = conversations
        self.view: AssignmentView | None = None
        self.writing: set[asyncio.Future[Any]] = set()
        self.failed = False  # a read, decision or write failed: the view may be wrong, take no more

    async def take(self, batch: list[tuple[Handover, asyncio.Future[HandedOver]]]) -> None:
        """Decide `batch` from the view and queue its writes; each future gets its outcome or error."""
        try:
            conversations = [handover.ask.conversation for handover, _ in batch]
            asks = [handover.ask for handover, _ in batch]
            if self.view is None:
                self.view = await AssignmentView.read(conversations)
                await self.conversations.read_places(asks, self.view)
            else:  # places counted beside the reads, from the agents read: a group guessed wrong
                # without the customer's state is counted again when decided (`AssignmentView.ahead`)
                await asyncio.gather(self.view.add_conversations(conversations),
                                     self.conversations.read_places(asks, self.view))
        except Exception as error:
            self.failed = True
            for _, future in batch:
                _settle(future, error)
            return
        together = self.conversations.decides_together
        for handover, future in batch:
            try:
                written = await self._decide(handover, future, self.view)
                if written is not None and not together:  # the next one's assigner reads what this one wrote
                    await asyncio.wait({written, self._stamp(self.view)})
            except Exception as error:  # this one alone fails; the view may hold part of it
                log.exception("hand-over not decided", conversation_id=handover.ask.conversation.id)
                self.failed = True
                _settle(future, error)
        self._stamp(self.view)

    async def _decide(self, handover: Handover, future: asyncio.Future[HandedOver], view: AssignmentView
                      ) -> asyncio.Future[Any] | None:
        conversation = handover.ask.conversation
        if conversation.id in view.with_a_person:
            # Handed over meanwhile by another message's answer (on another instance): as when a
            # person has it, stored and left to them; the customer is told once.
            log.info("conversation handed over meanwhile", conversation_id=conversation.id,
                     message_id=handover.message_id)
            self._write(handover.record([], {}), future, handed=False)
            return None
        [(drafts, update)], _ = await self.conversations.plan_handovers([handover.ask], view)
        return self._write(handover.record(handover.drafts + drafts, {**handover.update, **update}), future,
                           handed=True)

    def _stamp(self, view: AssignmentView) -> asyncio.Future[Any]:
        return self._write(self.conversations.stamp_agents(view), None, handed=False)

    def _write(self, write: Awaitable[Any], future: asyncio.Future[HandedOver] | None,
               handed: bool) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(write)
        self.writing.add(task)
        task.add_done_callback(lambda done: self._written(done, future, handed))
        return task

    def _written(self, task: asyncio.Future[Any], future: asyncio.Future[HandedOver] | None, handed: bool) -> None:
        self.writing.discard(task)
        outcome: HandedOver | BaseException
        if task.cancelled():
            outcome = asyncio.CancelledError()
        elif task.exception() is not None:
            outcome = cast(BaseException, task.exception())
        else:
            outcome = HandedOver(task.result(), handed)
        if isinstance(outcome, BaseException):
            self.failed = True
            if future is None:
                log.error("agents' assignment times not written", error=repr(outcome))
        if future is not None:
            _settle(future, outcome)


def _settle(future: asyncio.Future[HandedOver], outcome: HandedOver | BaseException) -> None:
    if future.done():  # its submitter was cancelled
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)

"""The outbox: every reply waits here until its channel took it; retried with capped back-off.

Sends for one channel account go out in order, one account's slow platform never holds up
another's, and a failing platform pauses its whole account (`AccountPauses`), not each reply. `message_id` is the idempotency key a channel passes to platforms that support one,
so a send retried after a crash (sent, but not yet marked) is not delivered twice there.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from tortoise.functions import Min

from csgw.gateway.account_pauses import AccountPauses
from csgw.gateway.channel import Channel, SendError
from csgw.gateway.clock import now
from csgw.gateway.due_loop import DueLoop
from csgw.gateway.messages import OutboundMessage
from csgw.gateway.models import Message, OutboxItem
from csgw.gateway.outbox_claims import OutboxClaims
from csgw.gateway.storage.plans import (
    ExecuteMany,
    Plan,
    Select,
    json_value,
    marks,
    update,
    update_row,
    update_rows,
)
from csgw.gateway.storage.store import MessageStore, to_outbound
from csgw.gateway.storage.writer import GroupCommitWriter

log = structlog.get_logger(__name__)

BASE_DELAY = 1.0
MAX_DELAY = 300.0
MAX_ATTEMPTS = 20
FAILED_PASS_BACKOFF = 0.5  # seconds after a failed pass (the store cannot be read), doubling
FAILED_PASS_BACKOFF_CAP = 30.0
PARALLEL_CONVERSATIONS = 32  # per channel account


def retry_delay(attempts: int, rng: Callable[[], float] = random.random, *, base: float | None = None,
                cap: float | None = None) -> float:
    """Capped exponential back-off with full jitter over the upper half; the outbox's own
    `BASE_DELAY` and `MAX_DELAY` unless given (read at the call, so they can be tuned)."""
    base = BASE_DELAY if base is None else base
    cap = MAX_DELAY if cap is None else cap
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return ceiling / 2 + rng() * ceiling / 2


class Outbox(DueLoop):
    def __init__(
        self, writer: GroupCommitWriter, store: MessageStore,
        channels: dict[tuple[str, str], Channel], on_result: Callable[..., object] | None = None,
        claims: OutboxClaims | None = None,
    ) -> None:
        super().__init__("csgw-outbox", backoff=FAILED_PASS_BACKOFF, backoff_cap=FAILED_PASS_BACKOFF_CAP)
        self.writer = writer
        self.store = store
        self.claims = claims or OutboxClaims(writer, shared=False)
        self.channels = channels
        self.on_result = on_result
        self._busy: set[tuple[str, str]] = set()
        self._parallel = asyncio.Semaphore(PARALLEL_CONVERSATIONS)
        self.pauses = AccountPauses(lambda failures: retry_delay(failures))

    async def backlog(self) -> tuple[int, float | None]:
        """(pending items, age in seconds of the oldest)."""
        pending = OutboxItem.filter(state="pending")
        count = await pending.count()
        oldest = await pending.order_by("created_at").first()
        age = (now() - oldest.created_at).total_seconds() if oldest else None
        return count, age

    async def run_pass(self) -> float:
        await self.claims.renew()
        return await self._dispatch_due()

    async def _dispatch_due(self) -> float:
        """Start sends for due items; return seconds until the next item is due (at most 5)."""
        at = now()
        due = await self.claims.due(at, 500, skip=self.pauses.paused_accounts())
        by_account: dict[tuple[str, str], list[OutboxItem]] = defaultdict(list)
        for item in due:
            key = (item.channel, item.account)
            # A busy account's rows stay held: its running batch may be sending some of them.
            if key not in self._busy:
                by_account[key].append(item)
        for key, items in by_account.items():
            self._busy.add(key)
            self.spawn(self._send_all(key, items))
        upcoming = await OutboxItem.filter(state="pending", next_attempt_at__gt=at).order_by("next_attempt_at").first()
        next_times = [when for when in (upcoming.next_attempt_at if upcoming else None, self.pauses.next_end())
                      if when is not None]
        if not next_times:
            return 5.0
        return max(0.05, min(5.0, (min(next_times) - at).total_seconds()))

    async def _send_all(self, key: tuple[str, str], items: list[OutboxItem]) -> None:
        """Conversations go out side by side; each conversation's messages strictly in order."""
        try:
            messages = {m.id: m for m in await Message.filter(id__in=[i.message_id for i in items])}
            by_conversation: dict[int, list[tuple[OutboxItem, Message]]] = defaultdict(list)
            for item in items:
                message = messages.get(item.message_id)
                if message is not None and message.direction != "out":
                    await self._refuse(item, message)
                elif message is not None:
                    by_conversation[message.conversation_id].append((item, message))
            oldest = await _oldest_pending(list(by_conversation))
            # A reply stored while an earlier one of its conversation is backing off waits for it.
            ready = [queue for conversation_id, queue in by_conversation.items()
                     if queue[0][1].id == oldest.get(conversation_id)]
            if self.pauses.probing(key):  # the platform failed lately: one conversation tries first
                ready = ready[:1]
            await asyncio.gather(*(self._send_in_order(key, queue) for queue in ready))
        finally:
            try:
                await self.claims.release([item.id for item in items])
            finally:
                self._busy.discard(key)
            self.wake()

    async def _refuse(self, item: OutboxItem, message: Message) -> None:
        # Only replies go to customers: a row naming an agents' note (or a customer's own message)
        # is a bug upstream, and is never sent.
        log.error("outbox row names a message that is not a reply: not sent", message_id=message.id,
                  conversation_id=message.conversation_id, direction=message.direction)
        await self.writer.run_plan(_refused_plan, item.id)

    async def _send_in_order(self, key: tuple[str, str], queue: list[tuple[OutboxItem, Message]]) -> None:
        async with self._parallel:
            for item, message in queue:
                if not await self._send_one(key, item, message):
                    return  # later messages of this conversation wait for this one

    async def _send_one(self, key: tuple[str, str], item: OutboxItem, message: Message) -> bool:
        channel = self.channels.get(key)
        bound = log.bind(channel=key[0], account=key[1], conversation_id=message.conversation_id,
                         message_id=message.id)
        if channel is None:
            await self._give_up(item, message, "channel account is not configured")
            bound.warning("outbound dropped: channel account not configured")
            return False
        if self.pauses.paused(key):  # another conversation's send just failed: wait with it
            return False
        conversation_user = await self.store.platform_user_id_for(message.conversation_id)
        outbound = to_outbound(message, conversation_user, attempt=item.attempts)
        try:
            await channel.send(outbound)
        except SendError as error:
            channel.stats.failure(str(error), error.code)
            if not error.retryable or item.attempts + 1 >= MAX_ATTEMPTS:
                await self._give_up(item, message, str(error), error.code)
                bound.warning("outbound failed for good", error=str(error), code=error.code)
            else:
                until = self.pauses.failed(key)
                await self._retry_later(item, message, str(error))
                bound.info("outbound will be retried", error=str(error), attempts=item.attempts + 1,
                           account_paused_until=until.isoformat())
            return False
        except Exception as error:  # a channel bug must not stop the outbox
            channel.stats.failure(repr(error))
            self.pauses.failed(key)
            await self._retry_later(item, message, repr(error))
            bound.exception("channel send raised")
            return False
        channel.stats.success()
        self.pauses.succeeded(key)
        await self._mark_sent(item, message)
        self._notify("sent", outbound)
        return True

    async def _mark_sent(self, item: OutboxItem, message: Message) -> None:
        await self.writer.run_batched(_mark_sent_batch, (item.id, message.id, item.attempts + 1))

    async def _retry_later(self, item: OutboxItem, message: Message, error: str) -> None:
        attempts = item.attempts + 1
        when = now() + timedelta(seconds=retry_delay(attempts))
        await self.writer.run_plan(_retry_later_plan, item.id, message, attempts, when, error)

    async def _give_up(self, item: OutboxItem, message: Message, error: str, code: str | None = None) -> None:
        await self.mark_undelivered(message.id, error, code, attempts=item.attempts + 1)

    async def mark_undelivered(self, message_id: int, error: str, code: str | None = None, *,
                               attempts: int | None = None) -> None:
        """Record that a message did not reach the customer (also after the platform first took it)."""
        await self.writer.run_plan(_undelivered_plan, message_id, error, code, attempts)
        message = await Message.get(id=message_id)
        self._notify("failed", message, error=error, code=code)

    def _notify(self, result: str, message: OutboundMessage | Message, **detail: object) -> None:
        if self.on_result:
            self.on_result(result, message, **detail)


async def _oldest_pending(conversation_ids: list[int]) -> dict[int, int]:
    """conversation id -> id of its oldest reply still waiting in the outbox."""
    rows = await Message.filter(conversation_id__in=conversation_ids, delivery="pending").group_by(
        "conversation_id").annotate(first=Min("id")).values_list("conversation_id", "first")
    return dict(rows)


def _retry_later_plan(item_id: int, message: Message, attempts: int, when: datetime, error: str) -> Plan[None]:
    """The item waits until `when`; so do the conversation's later replies, to keep their order."""
    yield from update_row("outbox", item_id, {"attempts": attempts, "next_attempt_at": when,
                                         "last_error": error[:2000], "updated_at": now()})
    yield update("outbox", {"next_attempt_at": when},
                 '"state" = ? AND "message_id" IN (SELECT "id" FROM "message" WHERE "conversation_id" = ? '
                 'AND "id" > ? AND "delivery" = ?)', ["pending", message.conversation_id, message.id, "pending"])


def _refused_plan(item_id: int) -> Plan[None]:
    yield from update_row("outbox", item_id, {"state": "failed", "last_error": "not a reply", "updated_at": now()})


def _undelivered_plan(message_id: int, error: str, code: str | None, attempts: int | None) -> Plan[None]:
    values: dict[str, Any] = {"state": "failed", "last_error": error[:2000], "updated_at": now()}
    if attempts is not None:
        values["attempts"] = attempts
    yield update("outbox", values, '"message_id" = ?', [message_id])
    [(conversation_id, payload)] = yield Select('SELECT "conversation_id", "payload" FROM "message" WHERE "id" = ?',
                                                [message_id])
    payload = {**(json_value(payload) or {}), "delivery_error": {"message": error, "code": code}}
    yield from update_row("message", message_id, {"delivery": "failed", "payload": payload})
    # Until the customer writes again, agents see why replies do not get through.
    [(flags,)] = yield Select('SELECT "flags" FROM "conversation" WHERE "id" = ?', [conversation_id])
    yield from update_row("conversation", conversation_id,
                     {"flags": {**(json_value(flags) or {}), "reply_blocked_reason": error[:500]}})


def _mark_sent_batch(sent: list[tuple[int, int, int]]) -> Plan[list[None]]:
    """Every send confirmed while the last commit ran, marked in two statements."""
    at = now()
    yield update_rows("outbox", ("state", "attempts", "updated_at", "last_error"),
                      [["sent", attempts, at, None, item_id] for item_id, _, attempts in sent])
    yield ExecuteMany(f'UPDATE "message" SET "delivery" = ? WHERE "id" IN ({marks(len(sent))})',
                      [["sent", *[message_id for _, message_id, _ in sent]]])
    return [None] * len(sent)

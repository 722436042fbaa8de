"""The message write path: inbound messages and outbound replies, through the one writer.

Both go through batch plans (`store_plans`): every inbound message (or reply) queued while the
previous transaction ran is stored by a handful of statements for the whole batch. The caches
here are hints filled after a commit, so a rolled-back batch never leaves them pointing at rows
that do not exist; the plan checks a hinted conversation is still open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from csgw.gateway.bounded_cache import BoundedCache
from csgw.gateway.messages import DraftReply, InboundMessage, OutboundMessage
from csgw.gateway.models import Conversation, CustomerIdentity, Message
from csgw.gateway.storage.answered_plans import (
    PreparedAnswer,
    StoredWithAnswer,
    snapshot,
    store_with_answers_plan,
)
from csgw.gateway.storage.message_plans import (
    AlsoWritten,
    InboundHints,
    ReplyBatchItem,
    StoredInbound,
    identity_of,
    store_replies_plan,
)
from csgw.gateway.storage.plans import Plan
from csgw.gateway.storage.records import ConversationRecord, ConversationState
from csgw.gateway.storage.writer import GroupCommitWriter

__all__ = ["ConversationUpdate", "DraftReply", "MessageStore", "StoredInbound", "to_outbound"]


@dataclass(slots=True)
class ConversationUpdate:
    """Changes the pipeline makes to a conversation along with storing its replies."""

    values: dict[str, Any] = field(default_factory=dict)


class MessageStore:
    def __init__(self, writer: GroupCommitWriter, cache_size: int = 100_000, survey_window: float = 0,
                 comment_window: float = 0) -> None:
        self.writer = writer
        self.survey_window = survey_window  # after a close, a lone 1-5 rates it (`[reply] survey_window_seconds`)
        self.comment_window = comment_window  # after a rating by message, a text may be its comment
        self._customers: BoundedCache = BoundedCache(cache_size)  # identity -> customer id
        self._open: BoundedCache = BoundedCache(cache_size)  # (customer, channel, account, thread) -> conv id
        self._users: BoundedCache = BoundedCache(cache_size)  # conversation id -> platform user id
        self._known: BoundedCache = BoundedCache(cache_size)  # conversation id -> record as last committed here
        self._changed_customers: BoundedCache = BoundedCache(10_000)  # customer id -> True

    def forget_conversation(self, conversation: ConversationState) -> None:
        key = (conversation.customer_id, conversation.channel, conversation.account, conversation.thread_key)
        self._open.pop(key, None)

    def customer_changed(self, customer_id: int) -> None:
        """The gateway changed a customer's profile (a merge): a message that created it no longer
        speaks for it (see `unchanged_new_customer`)."""
        self._changed_customers.put(customer_id, True)

    def unchanged_new_customer(self, stored: StoredInbound) -> bool:
        """`stored` created its customer, and nothing in the gateway has changed that customer since:
        no flag, tag or order can be on it yet, so nobody needs to read it back."""
        return stored.new_customer and stored.customer_id not in self._changed_customers

    def forget_identities(self, identities: list[tuple[str, str, str]]) -> None:
        """Identities (channel, account, platform user id) moved to another customer: look them up again."""
        for identity in identities:
            self._customers.pop(identity, None)

    def known_conversation(self, inbound: InboundMessage) -> ConversationRecord | None:
        """A copy of the open conversation `inbound` will join, as this process last committed it;
        None when the caches do not know it (a first message, a restart, a conversation closed)."""
        customer_id = self._customers.get(identity_of(inbound))
        if customer_id is None:
            return None
        conversation_id = self._open.get((customer_id, inbound.channel, inbound.account, inbound.thread_key))
        known = self._known.get(conversation_id) if conversation_id is not None else None
        return snapshot(known) if known is not None and known.state != "closed" else None

    async def store_inbound(self, inbound: InboundMessage) -> StoredInbound:
        """Store one inbound message durably (deduplicated); returns after the commit."""
        return (await self.store_answered(inbound, None)).stored

    async def store_answered(self, inbound: InboundMessage, answer: PreparedAnswer | None) -> StoredWithAnswer:
        """Store one inbound message durably (deduplicated) and, in the same transaction, `answer`
        if it still holds (`answered_plans`); returns after the commit."""
        result: StoredWithAnswer = await self.writer.run_batched(self._store_batch, (inbound, answer))
        stored = result.stored
        if stored.duplicate:  # nothing new to learn; a forged retry must not re-point the caches
            return result
        self._customers.put(identity_of(inbound), stored.customer_id)
        self._open.put((stored.customer_id, inbound.channel, inbound.account, inbound.thread_key),
                       stored.conversation_id)
        self._users.put(stored.conversation_id, inbound.user_id)
        if isinstance(stored.conversation, ConversationRecord):
            self._known.put(stored.conversation_id, stored.conversation)
        return result

    def _store_batch(self, items: list[tuple[InboundMessage, PreparedAnswer | None]]) -> Plan[list[StoredWithAnswer]]:
        customers, conversations = {}, {}
        for inbound, _ in items:
            identity = identity_of(inbound)
            customer_id = self._customers.get(identity)
            if customer_id is None:
                continue
            customers[identity] = customer_id
            thread = (customer_id, inbound.channel, inbound.account, inbound.thread_key)
            if thread in self._open:
                conversations[thread] = self._open[thread]
        return store_with_answers_plan(items, InboundHints(customers, conversations), self.survey_window,
                                       self.comment_window)

    async def store_replies(
        self, conversation: ConversationState, drafts: list[DraftReply], *, answers: int | None = None,
        inline: bool = False, update: ConversationUpdate | None = None, also: AlsoWritten | None = None,
    ) -> list[OutboundMessage]:
        """Store outbound messages with their outbox rows (or as inline), mark `answers` processed,
        apply `update` to the conversation and run `also` — all in one transaction."""
        user_id = await self.platform_user_id(conversation)
        values = dict(update.values) if update else {}
        item = ReplyBatchItem(conversation, user_id, drafts, answers, inline, values, list(also or ()))
        outbound: list[OutboundMessage] = await self.writer.run_batched(store_replies_plan, item)
        for key, value in item.values.items():
            setattr(conversation, key, value)
        if isinstance(conversation, ConversationRecord):
            self._known.put(conversation.id, conversation)
        return outbound

    async def inline_replies_for(self, message_id: int) -> list[OutboundMessage]:
        rows = await Message.filter(reply_to_id=message_id, delivery="inline").order_by("id")
        if not rows:
            return []
        user_id = await self.platform_user_id_for(rows[0].conversation_id)
        return [to_outbound(row, user_id) for row in rows]

    async def platform_user_id_for(self, conversation_id: int) -> str:
        if conversation_id not in self._users:
            conversation = await Conversation.get(id=conversation_id)
            return await self.platform_user_id(conversation)
        return self._users[conversation_id]

    async def platform_user_id(self, conversation: ConversationState) -> str:
        if conversation.id in self._users:
            return self._users[conversation.id]
        identity = await CustomerIdentity.filter(
            customer_id=conversation.customer_id, channel=conversation.channel, account=conversation.account
        ).order_by("id").first()
        user_id = identity.platform_user_id if identity else ""
        self._users.put(conversation.id, user_id)
        return user_id


def to_outbound(row: Message, user_id: str, attempt: int = 0) -> OutboundMessage:
    return OutboundMessage(
        message_id=row.id, conversation_id=row.conversation_id, channel=row.channel,
        account=row.account, user_id=user_id, text=row.text, sender=row.sender,
        payload=row.payload or {}, attempt=attempt,
    )


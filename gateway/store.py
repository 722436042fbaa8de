"""The message write path: inbound messages and outbound replies, through the one writer.

Both go through batch handlers: every inbound message (or reply) queued while the previous
transaction ran is stored by a handful of statements for the whole batch, not per message.
The caches here are hints filled after a commit, so a rolled-back batch never leaves them
pointing at rows that do not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from csgw.gateway.bounded_cache import BoundedCache
from csgw.gateway.bulk import db_json, insert_rows, placeholders, update_rows
from csgw.gateway.channel import InboundMessage, OutboundMessage
from csgw.gateway.clock import now
from csgw.gateway.models import Conversation, Customer, CustomerIdentity, Message
from csgw.gateway.writer import GroupCommitWriter

MESSAGE_COLUMNS = ("conversation_id", "channel", "account", "direction", "sender", "agent_id", "kind", "text",
                   "payload", "external_id", "processed", "delivery", "reply_to_id", "created_at", "platform_ts")
OUTBOX_COLUMNS = ("message_id", "channel", "account", "state", "attempts", "next_attempt_at", "created_at",
                  "updated_at")
JSON_FIELDS = {"bot_state", "flags", "payload"}
SURVEY_SCORES = ("1", "2", "3", "4", "5")


@dataclass(frozen=True, slots=True)
class StoredInbound:
    message_id: int
    conversation_id: int
    customer_id: int
    duplicate: bool
    new_conversation: bool
    message: Message | None = None  # the stored row (not for duplicates)
    conversation: Conversation | None = None  # as read in the storing transaction


@dataclass(slots=True)
class DraftReply:
    text: str
    sender: str = "bot"
    payload: dict[str, Any] = field(default_factory=dict)
    agent_id: int | None = None


@dataclass(slots=True)
class ConversationUpdate:
    """Changes the pipeline makes to a conversation along with storing its replies."""

    values: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _ReplyBatchItem:
    conversation: Conversation
    user_id: str
    drafts: list[DraftReply]
    answers: int | None
    inline: bool
    values: dict[str, Any]


class MessageStore:
    def __init__(self, writer: GroupCommitWriter, cache_size: int = 100_000, survey_window: float = 0) -> None:
        self.writer = writer
        self.survey_window = survey_window
        self._customers: BoundedCache = BoundedCache(cache_size)  # identity -> customer id
        self._open: BoundedCache = BoundedCache(cache_size)  # (customer, channel, account, thread) -> conv id
        self._users: BoundedCache = BoundedCache(cache_size)  # conversation id -> platform user id

    def forget_conversation(self, conversation: Conversation) -> None:
        key = (conversation.customer_id, conversation.channel, conversation.account, conversation.thread_key)
        self._open.pop(key, None)

    def forget_identities(self, identities: list[tuple[str, str, str]]) -> None:
        """Identities (channel, account, platform user id) moved to another customer: look them up again."""
        for identity in identities:
            self._customers.pop(identity, None)

    async def store_inbound(self, inbound: InboundMessage) -> StoredInbound:
        """Store one inbound message durably (deduplicated); returns after the commit."""
        stored: StoredInbound = await self.writer.run_batched(self._store_inbound_batch, inbound)
        self._customers.put((inbound.channel, inbound.account, inbound.user_id), stored.customer_id)
        self._open.put((stored.customer_id, inbound.channel, inbound.account, inbound.thread_key),
                       stored.conversation_id)
        self._users.put(stored.conversation_id, inbound.user_id)
        return stored

    async def _store_inbound_batch(self, connection: BaseDBAsyncClient,
                                   inbounds: list[InboundMessage]) -> list[StoredInbound]:
        existing = await _existing_messages(connection, inbounds)
        open_hinted = await self._hinted_conversations(connection, inbounds)
        results: list[StoredInbound | None] = [None] * len(inbounds)
        first_in_batch: dict[tuple[str, str, str], int] = {}
        fresh: list[tuple[int, Conversation, bool]] = []
        for index, inbound in enumerate(inbounds):
            key = (inbound.channel, inbound.account, inbound.external_id or "")
            if inbound.external_id and key in existing:
                results[index] = existing[key]
                continue
            if inbound.external_id and key in first_in_batch:
                continue  # resolved below, once the first copy has its id
            if inbound.external_id:
                first_in_batch[key] = index
            customer_id = await self._customer_for(connection, inbound)
            hint = self._open.get((customer_id, inbound.channel, inbound.account, inbound.thread_key))
            if hint in open_hinted:
                conversation, created = open_hinted[hint], False
            else:
                conversation, created = await self._open_conversation(connection, inbound, customer_id)
                open_hinted[conversation.id] = conversation
            fresh.append((index, conversation, created))
        at = now()
        rows = [[conversation.id, inbounds[i].channel, inbounds[i].account, "in", "customer", None, inbounds[i].kind,
                 inbounds[i].text, db_json(inbounds[i].payload), inbounds[i].external_id, False, None, None, at,
                 inbounds[i].platform_ts] for i, conversation, _ in fresh]
        ids = await insert_rows(connection, "message", MESSAGE_COLUMNS, rows)
        for (index, conversation, created), ident, row in zip(fresh, ids, rows, strict=True):
            message = Message(id=ident, **dict(zip(MESSAGE_COLUMNS, row, strict=True)))
            message.payload = inbounds[index].payload
            results[index] = StoredInbound(ident, conversation.id, conversation.customer_id,
                                           False, created, message, conversation)
        for index, inbound in enumerate(inbounds):
            if results[index] is None:
                first = results[first_in_batch[(inbound.channel, inbound.account, inbound.external_id or "")]]
                results[index] = StoredInbound(first.message_id, first.conversation_id, first.customer_id,
                                               True, False)
        return results

    async def _hinted_conversations(self, connection: BaseDBAsyncClient,
                                    inbounds: list[InboundMessage]) -> dict[int, Conversation]:
        """The cached open conversations of the batch's customers, checked still open, in one query."""
        hints = set()
        for inbound in inbounds:
            customer_id = self._customers.get((inbound.channel, inbound.account, inbound.user_id))
            hint = self._open.get((customer_id, inbound.channel, inbound.account, inbound.thread_key))
            if hint:
                hints.add(hint)
        if not hints:
            return {}
        rows = await Conversation.filter(id__in=list(hints), state__not="closed").using_db(connection)
        return {row.id: row for row in rows}

    async def _customer_for(self, connection: BaseDBAsyncClient, inbound: InboundMessage) -> int:
        cached = self._customers.get((inbound.channel, inbound.account, inbound.user_id))
        if cached:
            return cached
        identity = await CustomerIdentity.filter(
            channel=inbound.channel, account=inbound.account, platform_user_id=inbound.user_id
        ).using_db(connection).first()
        if identity:
            return identity.customer_id
        name = str(inbound.profile.get("nickname") or inbound.profile.get("name") or "")
        customer = await Customer.create(using_db=connection, name=name)
        await CustomerIdentity.create(
            using_db=connection, customer_id=customer.id, channel=inbound.channel,
            account=inbound.account, platform_user_id=inbound.user_id, profile=dict(inbound.profile),
        )
        # Later messages of the same batch find it in the transaction, before the commit.
        return customer.id

    async def _open_conversation(
        self, connection: BaseDBAsyncClient, inbound: InboundMessage, customer_id: int
    ) -> tuple[Conversation, bool]:
        """The customer's open conversation on this account (and thread); a closed one is never reopened."""
        query = Conversation.filter(
            customer_id=customer_id, channel=inbound.channel, account=inbound.account,
            thread_key=inbound.thread_key, state__not="closed",
        ).using_db(connection)
        conversation = await query.order_by("-id").first()
        if conversation:
            return conversation, False
        rated = await self._awaiting_rating(connection, inbound, customer_id)
        if rated:
            return rated, False
        at = now()
        conversation = await Conversation.create(
            using_db=connection, customer_id=customer_id, channel=inbound.channel, account=inbound.account,
            thread_key=inbound.thread_key, state="bot", opened_at=at, last_message_at=at,
        )
        return conversation, True

    async def _awaiting_rating(self, connection: BaseDBAsyncClient, inbound: InboundMessage,
                               customer_id: int) -> Conversation | None:
        """A lone 1-5 just after a close rates that conversation instead of opening a new one."""
        if self.survey_window <= 0 or inbound.text.strip() not in SURVEY_SCORES:
            return None
        latest = await Conversation.filter(
            customer_id=customer_id, channel=inbound.channel, account=inbound.account,
            thread_key=inbound.thread_key, state="closed", satisfaction__isnull=True,
        ).using_db(connection).order_by("-id").first()
        if latest and latest.closed_at and (now() - latest.closed_at).total_seconds() <= self.survey_window:
            return latest
        return None

    async def store_replies(
        self, conversation: Conversation, drafts: list[DraftReply], *, answers: int | None = None,
        inline: bool = False, update: ConversationUpdate | None = None,
    ) -> list[OutboundMessage]:
        """Store outbound messages with their outbox rows (or as inline), mark `answers` processed,
        and apply `update` to the conversation — all in one transaction."""
        user_id = await self.platform_user_id(conversation)
        values = dict(update.values) if update else {}
        item = _ReplyBatchItem(conversation, user_id, drafts, answers, inline, values)
        outbound: list[OutboundMessage] = await self.writer.run_batched(self._store_replies_batch, item)
        for key, value in item.values.items():
            setattr(conversation, key, value)
        return outbound

    async def _store_replies_batch(self, connection: BaseDBAsyncClient,
                                   items: list[_ReplyBatchItem]) -> list[list[OutboundMessage]]:
        at = now()
        rows, owners = [], []
        for number, item in enumerate(items):
            conversation = item.conversation
            for draft in item.drafts:
                if conversation.thread_key:  # channels that thread (e-mail) reply within the thread
                    draft.payload = {**draft.payload, "thread_key": conversation.thread_key}
                rows.append([conversation.id, conversation.channel, conversation.account, "out", draft.sender,
                             draft.agent_id, "text", draft.text, db_json(draft.payload), None, True,
                             "inline" if item.inline else "pending", item.answers, at, None])
                owners.append((number, draft))
            if item.drafts or item.answers is not None:
                item.values.setdefault("last_message_at", at)
            if (any(d.sender == "agent" for d in item.drafts) and conversation.first_response_at is None
                    and "first_response_at" not in item.values):
                item.values["first_response_at"] = at
        ids = await insert_rows(connection, "message", MESSAGE_COLUMNS, rows)
        results: list[list[OutboundMessage]] = [[] for _ in items]
        outbox_rows = []
        for ident, (number, draft) in zip(ids, owners, strict=True):
            item = items[number]
            conversation = item.conversation
            results[number].append(OutboundMessage(
                message_id=ident, conversation_id=conversation.id, channel=conversation.channel,
                account=conversation.account, user_id=item.user_id, text=draft.text, sender=draft.sender,
                payload=draft.payload))
            if not item.inline:
                outbox_rows.append([ident, conversation.channel, conversation.account, "pending", 0, at, at, at])
        await insert_rows(connection, "outbox", OUTBOX_COLUMNS, outbox_rows)
        answered = [item.answers for item in items if item.answers is not None]
        if answered:
            marks = ", ".join(placeholders(connection, len(answered), start=2))
            first = placeholders(connection, 1)[0]
            await connection.execute_query(f'UPDATE "message" SET "processed" = {first} WHERE "id" IN ({marks})',
                                           [True, *answered])
        await _update_conversations(connection, items)
        return results

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

    async def platform_user_id(self, conversation: Conversation) -> str:
        if conversation.id in self._users:
            return self._users[conversation.id]
        identity = await CustomerIdentity.filter(
            customer_id=conversation.customer_id, channel=conversation.channel, account=conversation.account
        ).order_by("id").first()
        user_id = identity.platform_user_id if identity else ""
        self._users.put(conversation.id, user_id)
        return user_id


async def _existing_messages(connection: BaseDBAsyncClient,
                             inbounds: list[InboundMessage]) -> dict[tuple[str, str, str], StoredInbound]:
    """Messages already stored under the batch's external ids (platform retries)."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for inbound in inbounds:
        if inbound.external_id:
            wanted.setdefault((inbound.channel, inbound.account), set()).add(inbound.external_id)
    found: dict[tuple[str, str, str], StoredInbound] = {}
    for (channel, account), external_ids in wanted.items():
        rows = await Message.filter(channel=channel, account=account, external_id__in=list(external_ids)
                                    ).using_db(connection).values_list("id", "conversation_id", "external_id")
        if not rows:
            continue
        conversations = {c.id: c for c in await Conversation.filter(
            id__in=list({r[1] for r in rows})).using_db(connection)}
        for message_id, conversation_id, external_id in rows:
            conversation = conversations[conversation_id]
            found[(channel, account, external_id)] = StoredInbound(
                message_id, conversation_id, conversation.customer_id, True, False)
    return found


async def _update_conversations(connection: BaseDBAsyncClient, items: list[_ReplyBatchItem]) -> None:
    """One `executemany` per distinct set of changed columns."""
    groups: dict[tuple[str, ...], list[list[Any]]] = {}
    for item in items:
        if not item.values:
            continue
        columns = tuple(sorted(item.values))
        values = [db_json(item.values[c]) if c in JSON_FIELDS else item.values[c] for c in columns]
        groups.setdefault(columns, []).append([*values, item.conversation.id])
    for columns, rows in groups.items():
        await update_rows(connection, "conversation", columns, rows)


def to_outbound(row: Message, user_id: str, attempt: int = 0) -> OutboundMessage:
    return OutboundMessage(
        message_id=row.id, conversation_id=row.conversation_id, channel=row.channel,
        account=row.account, user_id=user_id, text=row.text, sender=row.sender,
        payload=row.payload or {}, attempt=attempt,
    )


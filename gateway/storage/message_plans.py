"""The SQL of the message write path, as plans (see `sql_plans`): pure, run by the writer.

Each plan takes a whole batch (every inbound message, or every reply, queued while the last
transaction ran) and stores it with a handful of statements. What the store's caches know is
handed in beforehand: plans never touch shared state, since on SQLite they run in the writer's
thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from csgw.gateway.clock import now
from csgw.gateway.messages import DraftReply, InboundMessage, OutboundMessage
from csgw.gateway.models import Conversation
from csgw.gateway.rating_comments import takes_comment
from csgw.gateway.ratings import (
    NOT_ASKED,
    comment_awaited,
    comment_payload,
    rating_payload,
    score_in,
)
from csgw.gateway.storage.customer_plans import customer_for_identity
from csgw.gateway.storage.plans import (
    ExecuteMany,
    Insert,
    Plan,
    Select,
    marks,
    new_row,
    update_rows,
)
from csgw.gateway.storage.records import (
    ConversationRecord,
    ConversationState,
    MessageRecord,
    StoredMessage,
    columns_of,
    record_from_row,
)

MESSAGE_COLUMNS = ("conversation_id", "channel", "account", "direction", "sender", "agent_id", "kind", "text",
                   "payload", "external_id", "processed", "delivery", "reply_to_id", "created_at", "platform_ts")
OUTBOX_COLUMNS = ("message_id", "channel", "account", "state", "attempts", "next_attempt_at", "created_at",
                  "updated_at")
CONVERSATION_COLUMNS = columns_of(ConversationRecord)
CONVERSATION_SELECT = "SELECT " + ", ".join(f'"{c}"' for c in CONVERSATION_COLUMNS) + ' FROM "conversation"'

IdentityKey = tuple[str, str, str]  # channel, account, platform user id
ThreadKey = tuple[int, str, str, str | None]  # customer, channel, account, thread


@dataclass(frozen=True, slots=True)
class StoredInbound:
    message_id: int
    conversation_id: int
    customer_id: int
    duplicate: bool
    new_conversation: bool
    message: StoredMessage | None = None  # the stored row (not for duplicates)
    conversation: ConversationState | None = None  # as read in the storing transaction
    profile: dict[str, Any] | None = None  # what the channel sent about the sender (None: unknown)
    new_customer: bool = False  # the customer record was created for this message


# Writes that go with replies in their transaction (the bot's new tags): (plan, its arguments).
AlsoWritten = list[tuple[Callable[..., Plan[Any]], tuple[Any, ...]]]


@dataclass(slots=True)
class ReplyBatchItem:
    conversation: ConversationState
    user_id: str
    drafts: list[DraftReply]
    answers: int | None
    inline: bool
    values: dict[str, Any]  # conversation changes; the plan adds last_message_at, first_response_at
    also: AlsoWritten = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class InboundHints:
    """What the caches knew before the batch: customer per identity, open conversation per thread."""

    customers: dict[IdentityKey, int]
    conversations: dict[ThreadKey, int]


def identity_of(inbound: InboundMessage) -> IdentityKey:
    return (inbound.channel, inbound.account, inbound.user_id)


def _dedupe_key(inbound: InboundMessage) -> tuple[str, str, str]:
    return (inbound.channel, inbound.account, inbound.external_id or "")


def store_inbound_plan(inbounds: list[InboundMessage], hints: InboundHints, survey_window: float,
                       comment_window: float = 0) -> Plan[list[StoredInbound]]:
    """Deduplicate, resolve customer and open conversation, insert: one result per message. A
    rating or a rating's comment goes to the closed conversation it is about (marked in its payload)."""
    existing = yield from _existing_messages(inbounds)
    open_by_id = yield from _open_conversations(set(hints.conversations.values()))
    customers = yield from _confirmed_customers(hints.customers)
    created_customers: set[int] = set()
    threads: dict[ThreadKey, ConversationRecord] = {
        key: open_by_id[ident] for key, ident in hints.conversations.items()
        if ident in open_by_id and open_by_id[ident].customer_id == key[0]}  # not moved by a merge
    results: list[StoredInbound | None] = [None] * len(inbounds)
    first_in_batch: dict[tuple[str, str, str], int] = {}
    fresh: list[tuple[int, ConversationRecord, bool, dict[str, Any] | None]] = []  # index, conversation, new, payload
    for index, inbound in enumerate(inbounds):
        key = _dedupe_key(inbound)
        if inbound.external_id and key in existing:
            results[index] = existing[key]
            continue
        if inbound.external_id and key in first_in_batch:
            continue  # resolved below, once the first copy has its id
        if inbound.external_id:
            first_in_batch[key] = index
        identity = identity_of(inbound)
        if identity not in customers:
            customers[identity], is_new = yield from _customer_for(inbound)
            if is_new:
                created_customers.add(customers[identity])
        thread = (customers[identity], inbound.channel, inbound.account, inbound.thread_key)
        created, mark = False, None
        if thread in threads:
            conversation = threads[thread]
        else:
            conversation, created, mark = yield from _open_conversation(
                inbound, customers[identity], survey_window, comment_window)
            if mark is None:  # open: the batch's next messages in the thread join it; a rated one they do not
                threads[thread] = conversation
        fresh.append((index, conversation, created, mark))
    at = now()
    rows = [[conversation.id, inbounds[i].channel, inbounds[i].account, "in", "customer", None, inbounds[i].kind,
             inbounds[i].text, mark or inbounds[i].payload, inbounds[i].external_id, False, None, None, at,
             inbounds[i].platform_ts] for i, conversation, _, mark in fresh]
    ids = yield Insert("message", MESSAGE_COLUMNS, rows)
    for (index, conversation, created, _), ident, row in zip(fresh, ids, rows, strict=True):
        values: dict[str, Any] = dict(zip(MESSAGE_COLUMNS, row, strict=True))
        message = MessageRecord(**values, id=ident)
        results[index] = StoredInbound(ident, conversation.id, conversation.customer_id, False, created, message,
                                       conversation, inbounds[index].profile,
                                       conversation.customer_id in created_customers)
    stored: list[StoredInbound] = []
    for index, inbound in enumerate(inbounds):
        result = results[index]
        if result is None:  # a repeat within this batch: the first with its key was stored above
            first = results[first_in_batch[_dedupe_key(inbound)]]
            assert first is not None
            result = StoredInbound(first.message_id, first.conversation_id, first.customer_id, True, False)
        stored.append(result)
    return stored


def _existing_messages(inbounds: list[InboundMessage]) -> Plan[dict[tuple[str, str, str], StoredInbound]]:
    """Messages already stored under the batch's external ids (platform retries)."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for inbound in inbounds:
        if inbound.external_id:
            wanted.setdefault((inbound.channel, inbound.account), set()).add(inbound.external_id)
    found: dict[tuple[str, str, str], StoredInbound] = {}
    for (channel, account), external_ids in wanted.items():
        rows = yield Select(
            'SELECT m."id", m."conversation_id", c."customer_id", m."external_id" FROM "message" m '
            'JOIN "conversation" c ON c."id" = m."conversation_id" '
            f'WHERE m."channel" = ? AND m."account" = ? AND m."external_id" IN ({marks(len(external_ids))})',
            [channel, account, *external_ids])
        for message_id, conversation_id, customer_id, external_id in rows:
            found[(channel, account, external_id)] = StoredInbound(
                message_id, conversation_id, customer_id, True, False)
    return found


def _open_conversations(ids: set[int]) -> Plan[dict[int, ConversationRecord]]:
    """The cached conversations that are still open, in one query."""
    if not ids:
        return {}
    rows = yield Select(f'{CONVERSATION_SELECT} WHERE "id" IN ({marks(len(ids))}) AND "state" != \'closed\'',
                        list(ids))
    conversations = [record_from_row(ConversationRecord, CONVERSATION_COLUMNS, row) for row in rows]
    return {conversation.id: conversation for conversation in conversations}


def _confirmed_customers(hinted: dict[IdentityKey, int]) -> Plan[dict[IdentityKey, int]]:
    """The cached customer per identity, kept only where the identity still belongs to them: a
    merge on another instance sharing the store moves identities and deletes the customer."""
    if not hinted:
        return {}
    ids = sorted(set(hinted.values()))
    rows = yield Select(f'SELECT "channel", "account", "platform_user_id", "customer_id" FROM "customer_identity" '
                        f'WHERE "customer_id" IN ({marks(len(ids))})', ids)
    held = {((channel, account, user), customer) for channel, account, user, customer in rows}
    return {identity: customer for identity, customer in hinted.items() if (identity, customer) in held}


def _customer_for(inbound: InboundMessage) -> Plan[tuple[int, bool]]:
    name = str(inbound.profile.get("nickname") or inbound.profile.get("name") or "")
    return (yield from customer_for_identity(inbound.channel, inbound.account, inbound.user_id, name=name,
                                             profile=inbound.profile))


def _same_thread(inbound: InboundMessage, customer_id: int) -> tuple[str, list[Any]]:
    thread = '"thread_key" IS NULL' if inbound.thread_key is None else '"thread_key" = ?'
    params = [customer_id, inbound.channel, inbound.account]
    if inbound.thread_key is not None:
        params.append(inbound.thread_key)
    return f'"customer_id" = ? AND "channel" = ? AND "account" = ? AND {thread}', params


def _open_conversation(inbound: InboundMessage, customer_id: int, survey_window: float, comment_window: float,
                       ) -> Plan[tuple[ConversationRecord, bool, dict[str, Any] | None]]:
    """The customer's open conversation on this account (and thread), whether it is new, and
    None; or a closed one the message rates or comments on, with the message's payload saying
    so. A closed conversation is never reopened.

    Opened by two instances at once, the second insert fails on the store's unique index and the
    writer runs the batch again, which then finds the first one's (`open_conversations.py`)."""
    where, params = _same_thread(inbound, customer_id)
    rows = yield Select(f'{CONVERSATION_SELECT} WHERE {where} AND "state" != \'closed\' ORDER BY "id" DESC LIMIT 1',
                        params)
    if rows:
        return record_from_row(ConversationRecord, CONVERSATION_COLUMNS, rows[0]), False, None
    score = score_in(inbound.text)
    rated = yield from _awaiting_rating(inbound, customer_id, survey_window)
    if rated and score is not None:
        return rated, False, rating_payload(inbound.payload, score)
    commented = yield from _awaiting_comment(inbound, customer_id, comment_window)
    if commented:
        return commented, False, comment_payload(inbound.payload)
    at = now()
    columns, row = new_row(Conversation, {
        "customer_id": customer_id, "channel": inbound.channel, "account": inbound.account,
        "thread_key": inbound.thread_key, "state": "bot", "opened_at": at, "last_message_at": at}, at)
    [ident] = yield Insert("conversation", columns, [row])
    return ConversationRecord(**dict(zip(columns, row, strict=True)), id=ident), True, None


def _awaiting_rating(inbound: InboundMessage, customer_id: int, survey_window: float) -> Plan[ConversationRecord | None]:
    """A lone 1-5 just after a close rates that conversation instead of opening a new one."""
    if survey_window <= 0 or score_in(inbound.text) is None:
        return None
    where, params = _same_thread(inbound, customer_id)
    rows = yield Select(f'{CONVERSATION_SELECT} WHERE {where} AND "state" = \'closed\' '
                        'AND "satisfaction" IS NULL ORDER BY "id" DESC LIMIT 1', params)
    if not rows:
        return None
    latest = record_from_row(ConversationRecord, CONVERSATION_COLUMNS, rows[0])
    if (latest.flags or {}).get(NOT_ASKED):
        return None
    if latest.closed_at and (now() - latest.closed_at).total_seconds() <= survey_window:
        return latest
    return None


def _awaiting_comment(inbound: InboundMessage, customer_id: int, window: float) -> Plan[ConversationRecord | None]:
    """A text soon after a rating by message is its comment, by the rule of `rating_comments`."""
    if window <= 0 or inbound.kind != "text" or not inbound.text.strip():
        return None
    where, params = _same_thread(inbound, customer_id)
    rows = yield Select(f'{CONVERSATION_SELECT} WHERE {where} AND "state" = \'closed\' ORDER BY "id" DESC LIMIT 1',
                        params)
    if not rows:
        return None
    latest = record_from_row(ConversationRecord, CONVERSATION_COLUMNS, rows[0])
    if comment_awaited(latest, window, now()) and takes_comment(inbound.text, latest.satisfaction or 0):
        return latest
    return None


def store_replies_plan(items: list[ReplyBatchItem]) -> Plan[list[list[OutboundMessage]]]:
    """Replies with their outbox rows (or as inline), answered messages marked processed, and
    the conversations' changes: one result (the stored replies) per item."""
    at = now()
    rows, owners = [], []
    for number, item in enumerate(items):
        conversation = item.conversation
        for draft in item.drafts:
            if conversation.thread_key:  # channels that thread (e-mail) reply within the thread
                draft.payload = {**draft.payload, "thread_key": conversation.thread_key}
            rows.append([conversation.id, conversation.channel, conversation.account, "out", draft.sender,
                         draft.agent_id, "text", draft.text, draft.payload, None, True,
                         "inline" if item.inline else "pending", item.answers, at, None])
            owners.append((number, draft))
        _stamp(item, at)
    ids = yield Insert("message", MESSAGE_COLUMNS, rows)
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
    yield Insert("outbox", OUTBOX_COLUMNS, outbox_rows)
    answered = [item.answers for item in items if item.answers is not None]
    if answered:
        yield ExecuteMany(f'UPDATE "message" SET "processed" = ? WHERE "id" IN ({marks(len(answered))})',
                          [[True, *answered]])
    yield from _update_conversations(items)
    for item in items:
        for plan, args in item.also:
            yield from plan(*args)
    return results


def _stamp(item: ReplyBatchItem, at: datetime) -> None:
    if item.drafts or item.answers is not None:
        item.values.setdefault("last_message_at", at)
    if (any(d.sender == "agent" for d in item.drafts) and item.conversation.first_response_at is None
            and "first_response_at" not in item.values):
        item.values["first_response_at"] = at


def _update_conversations(items: list[ReplyBatchItem]) -> Plan[None]:
    """One `executemany` per distinct set of changed columns."""
    groups: dict[tuple[str, ...], list[list[Any]]] = {}
    for item in items:
        if item.values:
            columns = tuple(sorted(item.values))
            groups.setdefault(columns, []).append([*(item.values[c] for c in columns), item.conversation.id])
    for columns, rows in groups.items():
        yield update_rows("conversation", columns, rows)



"""Inbound messages stored together with the answers decided before they were stored.

The pipeline decides the bot's answer to a message of a conversation the store already knows
from the conversation as last committed (`PreparedAnswer.decided_from`), then hands both to the
writer: the message, its replies and outbox rows, the processed mark and the conversation's
change commit in one transaction. The answer is kept only if the message joined that very
conversation and the conversation is still as it was decided from (`decided_alike`); otherwise
the message is stored alone, unprocessed, and the pipeline answers it afresh — as a retried push
(a duplicate) is answered with what was stored the first time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from csgw.gateway.messages import DraftReply, InboundMessage, OutboundMessage
from csgw.gateway.storage.message_plans import (
    AlsoWritten,
    InboundHints,
    ReplyBatchItem,
    StoredInbound,
    store_inbound_plan,
    store_replies_plan,
)
from csgw.gateway.storage.plans import Plan, db_json, json_value
from csgw.gateway.storage.records import ConversationRecord, ConversationState

# What an answer is decided from; the conversation's times are not among them.
DECIDING_COLUMNS = ("customer_id", "state", "agent_id", "group", "priority", "satisfaction")
DECIDING_JSON = ("bot_state", "flags")


@dataclass(slots=True)
class PreparedAnswer:
    """Replies (none: stored for a person) and conversation changes for a message not stored yet."""

    decided_from: ConversationRecord
    user_id: str
    drafts: list[DraftReply]
    values: dict[str, Any]
    inline: bool
    also: AlsoWritten = field(default_factory=list)  # in the answer's transaction, if it holds


@dataclass(slots=True)
class StoredWithAnswer:
    stored: StoredInbound
    outbound: list[OutboundMessage] | None  # None: stored alone, to be answered afresh


def decided_alike(decided_from: ConversationState, current: ConversationState) -> bool:
    """Whether an answer decided from `decided_from` still holds for `current`."""
    return (all(getattr(decided_from, c) == getattr(current, c) for c in DECIDING_COLUMNS)
            and all(_plain(getattr(decided_from, c)) == _plain(getattr(current, c)) for c in DECIDING_JSON))


def snapshot(conversation: ConversationRecord) -> ConversationRecord:
    """A copy to decide from, its JSON columns as the store would hand them back."""
    return replace(conversation, bot_state=_plain(conversation.bot_state), flags=_plain(conversation.flags))


def _plain(value: Any) -> Any:
    """A JSON column's value as the store hands it back (tuples as lists, keys as text)."""
    return json_value(db_json(value if value is not None else {}))


def store_with_answers_plan(
    items: list[tuple[InboundMessage, PreparedAnswer | None]], hints: InboundHints, survey_window: float,
    comment_window: float,
) -> Plan[list[StoredWithAnswer]]:
    stored = yield from store_inbound_plan([inbound for inbound, _ in items], hints, survey_window, comment_window)
    kept: list[tuple[int, ReplyBatchItem, PreparedAnswer]] = []
    for number, ((_, answer), result) in enumerate(zip(items, stored, strict=True)):
        if answer is not None and _holds(answer, result):
            assert result.conversation is not None
            kept.append((number, ReplyBatchItem(result.conversation, answer.user_id, answer.drafts, result.message_id,
                                                answer.inline, dict(answer.values), answer.also), answer))
    outbound = yield from store_replies_plan([item for _, item, _ in kept])
    results = [StoredWithAnswer(result, None) for result in stored]
    for (number, item, _), replies in zip(kept, outbound, strict=True):
        results[number].outbound = replies
        for key, value in item.values.items():  # the caller's copy is the conversation as committed
            setattr(item.conversation, key, value)
    return results


def _holds(answer: PreparedAnswer, result: StoredInbound) -> bool:
    """The message joined the conversation its answer was decided from, unchanged since (a
    rating or its comment joins a closed one: never the open conversation decided from)."""
    return (not result.duplicate and not result.new_conversation and result.conversation is not None
            and result.conversation_id == answer.decided_from.id
            and decided_alike(answer.decided_from, result.conversation))

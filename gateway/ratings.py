"""Satisfaction ratings: a lone 1-5 sent just after a close, or the widget's survey frame; and
the comment that may follow (the rules in `gateway/rating_comments.py`).

A message that rates a conversation says so in its payload (`rating`), set when it is stored;
nothing later infers a rating from a message's text. A close asks for a rating only when someone
served the customer (`served`); one that did not ask says so in the conversation's flags
(`NOT_ASKED`), and a lone digit after it is a new message, not a rating. A rating by message
invites a comment (flag `COMMENT_INVITED`); the message the store routes back to the rated
conversation as its comment says so in its payload (`rating_comment`). The widget's survey frame
carries its comment itself. The score, the comment and when the score came are the
conversation's `satisfaction`, `satisfaction_comment` and `rated_at`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from csgw.gateway.clock import now
from csgw.gateway.models import Conversation, Message
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.storage.plans import update_row
from csgw.gateway.storage.records import ConversationRecord
from csgw.gateway.storage.timestamps import as_datetime
from csgw.gateway.views import conversation_view, rating_view

if TYPE_CHECKING:
    from csgw.gateway.ports import Events, Writes
    from csgw.gateway.storage.records import ConversationState

SCORES = ("1", "2", "3", "4", "5")
RATING = "rating"  # the payload key of a message that rates its (closed) conversation
NOT_ASKED = "rating_not_asked"  # a conversation flag: closed without asking for a rating
COMMENT = "rating_comment"  # the payload key of a message that is its (closed) conversation's comment
COMMENT_INVITED = "comment_invited"  # a conversation flag: rated by message, a comment invited


async def served(conversation_id: int) -> bool:
    """Whether an agent replied in the conversation, or the bot answered from what it knows (a
    reply naming the `entry_id` that answered; a menu, a question back or a fallback does not)."""
    replies = await Message.filter(conversation_id=conversation_id, direction="out",
                                   sender__in=("agent", "bot")).values_list("sender", "payload")
    return any(sender == "agent" or (payload or {}).get("entry_id") for sender, payload in replies)


def score_in(text: str) -> int | None:
    """The score a message's text gives, if it is nothing but a score."""
    stripped = text.strip()
    return int(stripped) if stripped in SCORES else None


def rating_payload(payload: dict[str, Any] | None, score: int) -> dict[str, Any]:
    return {**(payload or {}), RATING: score}


def rating_of(payload: dict[str, Any] | None) -> int | None:
    """The score a stored message gives its conversation; None for every other message."""
    score = (payload or {}).get(RATING)
    return score if isinstance(score, int) and not isinstance(score, bool) and 1 <= score <= 5 else None


def rated_values(conversation: ConversationState, score: int, *, invite: bool) -> dict[str, Any]:
    """The conversation's changes for a rating by message; `invite`: its comment is awaited."""
    values: dict[str, Any] = {"satisfaction": score, "rated_at": now()}
    if invite:
        values["flags"] = {**(conversation.flags or {}), COMMENT_INVITED: True}
    return values


async def record_rating(writer: Writes, events: Events, conversation_id: int, score: int,
                        comment: str | None = None) -> None:
    """Store a score given outside a message (the widget's survey), with its comment (None keeps
    one given before), and announce it: `satisfaction.rated` and `conversation.updated`."""
    values: dict[str, Any] = {"satisfaction": score, "rated_at": now()}
    if comment is not None:
        values["satisfaction_comment"] = comment
    await writer.run_plan(update_row, "conversation", conversation_id, values)
    if events.listening:
        conversation = await Conversation.get(id=conversation_id)
        events.publish("satisfaction.rated", rating_view(conversation, score, comment=conversation.satisfaction_comment))
        events.publish("conversation.updated", {**conversation_view(conversation), "change": "rated"})


def comment_payload(payload: dict[str, Any] | None) -> dict[str, Any]:
    return {**(payload or {}), COMMENT: True}


def is_comment(payload: dict[str, Any] | None) -> bool:
    """Whether a stored message is its conversation's rating comment."""
    return (payload or {}).get(COMMENT) is True


def comment_awaited(conversation: ConversationRecord, window: float, at: datetime) -> bool:
    """Whether the conversation was rated by message within `window` seconds of `at` and has no
    comment yet: the customer's next text may be its comment."""
    return (window > 0 and conversation.state == "closed" and conversation.satisfaction is not None
            and conversation.satisfaction_comment is None and conversation.rated_at is not None
            and bool((conversation.flags or {}).get(COMMENT_INVITED))
            and (at - conversation.rated_at).total_seconds() <= window)


LATEST_COMMENTS = 5  # shown in the report

COMMENTS_QUERY = """SELECT c.id, c.channel, c.account, c.agent_id, c.satisfaction, c.satisfaction_comment, c.rated_at
FROM conversation c
WHERE c.opened_at >= :since AND c.opened_at < :until AND c.satisfaction_comment IS NOT NULL AND c.rated_at IS NOT NULL
ORDER BY c.rated_at DESC, c.id DESC LIMIT :limit"""


async def latest_comments(sql: Sql, since: datetime, until: datetime, limit: int = LATEST_COMMENTS,
                          ) -> list[dict[str, Any]]:
    """The newest comments on conversations opened in the range, with their scores."""
    rows = await sql.rows(COMMENTS_QUERY, since=since, until=until, limit=limit)
    return [{"conversation_id": row["id"], "channel": row["channel"], "account": row["account"],
             "agent_id": row["agent_id"], "score": row["satisfaction"], "comment": row["satisfaction_comment"],
             "rated_at": _iso(as_datetime(row["rated_at"]))} for row in rows]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None

"""Satisfaction ratings: a lone 1-5 sent just after a close, or the widget's survey frame.

A message that rates a conversation says so in its payload (`rating`), set when it is stored;
nothing later infers a rating from a message's text. A close asks for a rating only when someone
served the customer (`served`); one that did not ask says so in the conversation's flags
(`NOT_ASKED`), and a lone digit after it is a new message, not a rating.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from csgw.gateway.models import Message
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.storage.timestamps import as_datetime

SCORES = ("1", "2", "3", "4", "5")
RATING = "rating"  # the payload key of a message that rates its (closed) conversation
NOT_ASKED = "rating_not_asked"  # a conversation flag: closed without asking for a rating


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

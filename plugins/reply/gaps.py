"""Knowledge gaps: customer questions the bot could not answer, clustered, most frequent first.

Read from the message table: a bot reply whose `payload.source` is "none" (no match) or
"clarify" (asked back) did not answer, and its `reply_to_id` is the customer's question. Questions the current engine now answers are
left out, so the list shows what the operator should add next.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rapidfuzz import fuzz

from csgw.gateway.clock import now
from csgw.gateway.models import Message
from csgw.gateway.reply import UNANSWERED_SOURCES

from .engine import ReplyEngine
from .normalize import compact

UNANSWERED = frozenset(UNANSWERED_SOURCES)
SAME_QUESTION = 72  # rapidfuzz ratio (0..100) at which two questions count as one
SCAN_LIMIT = 20000  # bot replies read per call: the newest ones


@dataclass
class Gap:
    """One cluster of unanswered questions; `text` is its most frequent wording."""

    text: str
    count: int = 0
    examples: list[str] = field(default_factory=list)
    last_seen: datetime | None = None
    _compact: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "count": self.count, "examples": self.examples,
                "last_seen": self.last_seen.isoformat() if self.last_seen else None}


async def unanswered_questions(days: int = 30) -> list[tuple[str, datetime]]:
    """(text, when) of every customer question the bot left unanswered in the last `days`."""
    since = now() - timedelta(days=days)
    replies = await Message.filter(sender="bot", created_at__gte=since, reply_to_id__isnull=False) \
        .order_by("-id").limit(SCAN_LIMIT).values("reply_to_id", "payload")
    ids = [row["reply_to_id"] for row in replies if (row["payload"] or {}).get("source") in UNANSWERED]
    questions: list[tuple[str, datetime]] = []
    for start in range(0, len(ids), 500):
        rows = await Message.filter(id__in=ids[start:start + 500], direction="in").values("text", "created_at")
        questions.extend((row["text"], row["created_at"]) for row in rows if (row["text"] or "").strip())
    return questions


def cluster(questions: Iterable[tuple[str, datetime | None]], engine: ReplyEngine | None = None,
            max_examples: int = 5) -> list[Gap]:
    """Group near-identical questions; the biggest group first. With `engine`, drop answered ones."""
    by_form: dict[str, list[tuple[str, datetime | None]]] = {}
    for text, when in questions:
        form = compact(text)
        if form and not form.isdigit():
            by_form.setdefault(form, []).append((text, when))
    gaps: list[Gap] = []
    for form, items in sorted(by_form.items(), key=lambda item: -len(item[1])):
        if engine is not None and engine.match(items[0][0], vector=engine.vector(items[0][0])).answered:
            continue
        gap = _nearest(gaps, form)
        if gap is None:
            wording = Counter(text for text, _ in items).most_common(1)[0][0]
            gap = Gap(text=wording, _compact=form)
            gaps.append(gap)
        gap.count += len(items)
        for text, when in items:
            if text not in gap.examples and len(gap.examples) < max_examples:
                gap.examples.append(text)
            if when is not None and (gap.last_seen is None or when > gap.last_seen):
                gap.last_seen = when
    gaps.sort(key=lambda gap: (-gap.count, gap.text))
    return gaps


def _nearest(gaps: Sequence[Gap], form: str) -> Gap | None:
    best, best_score = None, float(SAME_QUESTION)
    for gap in gaps:
        score = fuzz.ratio(form, gap._compact)
        if score >= best_score:
            best, best_score = gap, score
    return best

"""The questions the bot left unanswered in a range, per KB category, most asked first: what the
report lists beside the figures per category (`csgw kb gaps` clusters them across categories)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from csgw.gateway.reply import UNANSWERED_SOURCES
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.storage.timestamps import as_datetime

TOP_QUESTIONS = 5  # per category
MAX_SHOWN = 200  # characters of a question's wording in the report


@dataclass
class Question:
    text: str
    count: int
    last_seen: datetime | None


def question_form(text: str) -> str:
    """What makes two wordings one question: width, case, spaces and punctuation do not count."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if unicodedata.category(char)[0] in "LN")


def unanswered_query(sql: Sql) -> str:
    sources = ", ".join(f"'{source}'" for source in UNANSWERED_SOURCES)
    return f"""SELECT {sql.json_text("r.payload", "category")} AS category, q.text AS text,
      COUNT(*) AS n, MAX(q.created_at) AS last_seen
    FROM message r JOIN message q ON q.id = r.reply_to_id
    WHERE r.created_at >= :since AND r.created_at < :until AND r.sender = 'bot' AND r.direction = 'out'
      AND {sql.json_text("r.payload", "source")} IN ({sources}) AND q.direction = 'in'
    GROUP BY 1, q.text"""


async def unanswered_by_category(sql: Sql, since: datetime, until: datetime,
                                 top: int = TOP_QUESTIONS) -> list[dict[str, Any]]:
    """Per category (None: the bot had no category near), how many questions it left unanswered
    in the range and the `top` most asked, wordings that differ only in width, case, spaces or
    punctuation counted as one (the most frequent wording shown)."""
    per_category: dict[str | None, dict[str, list[tuple[str, int, datetime | None]]]] = {}
    for row in await sql.rows(unanswered_query(sql), since=since, until=until):
        form = question_form(row["text"] or "")
        if not form or form.isdigit():  # a menu choice or a rating, not a question
            continue
        wordings = per_category.setdefault(row["category"] or None, {}).setdefault(form, [])
        wordings.append((row["text"].strip(), int(row["n"]), as_datetime(row["last_seen"])))
    found: list[dict[str, Any]] = []
    for category, forms in per_category.items():
        questions = [_merged(wordings) for wordings in forms.values()]
        questions.sort(key=lambda q: (-q.count, q.text))
        found.append({"category": category, "count": sum(q.count for q in questions),
                      "questions": [{"text": q.text[:MAX_SHOWN], "count": q.count,
                                     "last_seen": q.last_seen.isoformat() if q.last_seen else None}
                                    for q in questions[:top]]})
    found.sort(key=lambda entry: (-entry["count"], entry["category"] is None, entry["category"] or ""))
    return found


def _merged(wordings: list[tuple[str, int, datetime | None]]) -> Question:
    # the most asked wording; of equally asked ones, the latest
    text = max(wordings, key=lambda wording: (wording[1], wording[2] or datetime.min.replace(tzinfo=UTC)))[0]
    seen = [when for _, _, when in wordings if when is not None]
    return Question(text, sum(count for _, count, _ in wordings), max(seen) if seen else None)

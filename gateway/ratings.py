"""Satisfaction ratings: a lone 1-5 sent just after a close, or the widget's survey frame.

A message that rates a conversation says so in its payload (`rating`), set when it is stored;
nothing later infers a rating from a message's text.
"""

from __future__ import annotations

from typing import Any

SCORES = ("1", "2", "3", "4", "5")
RATING = "rating"  # the payload key of a message that rates its (closed) conversation


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

"""Words that mean "let me talk to a person", and complaint words: both skip the bot."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from .normalize import normalize

# Asked anywhere in a message, these want a person.
PERSON_PHRASES = (
    "转人工", "人工客服", "人工服务", "人工坐席", "人工座席", "找人工", "要人工", "接人工", "叫人工",
    "真人客服", "活人", "人工回复", "人工处理",
)
# These only count as the whole message: "客服几点上班" is a question for the knowledge base.
PERSON_MESSAGES = ("人工", "客服", "人工人工", "找客服", "联系客服", "叫客服", "要客服", "人呢", "有人吗")
COMPLAINT_PHRASES = ("投诉", "差评", "12315", "消协", "消费者协会", "举报", "骗子", "起诉", "律师函", "曝光你们")

_ENGLISH = re.compile(r"\b(human|agent|real person|operator|representative|talk to (a )?person)\b")
# "真人" wants a person, except in "真人图 / 真人试穿 / 真人秀", which ask about photos of the product.
_REAL_PERSON = re.compile(r"真人(?!图|照|秀|试|上身|模特|实拍|视频|版|尺寸)")


class HandoverSettings(BaseModel):
    """Hand-over words; each list replaces the default when given."""

    model_config = ConfigDict(extra="forbid")

    person_phrases: list[str] = Field(default_factory=lambda: list(PERSON_PHRASES))
    person_messages: list[str] = Field(default_factory=lambda: list(PERSON_MESSAGES))
    complaint_phrases: list[str] = Field(default_factory=lambda: list(COMPLAINT_PHRASES))


class HandoverDetector:
    """Tells whether a normalised message asks for a person ("person") or complains ("complaint")."""

    def __init__(self, settings: HandoverSettings | None = None) -> None:
        settings = settings or HandoverSettings()
        self._phrases = _normalized(settings.person_phrases)
        self._messages = set(_normalized(settings.person_messages))
        self._complaints = _normalized(settings.complaint_phrases)

    def reason(self, normalized: str) -> str | None:
        """"person", "complaint" or None for an already-normalised message."""
        if not normalized:
            return None
        compact_text = normalized.replace(" ", "")
        if compact_text in self._messages or any(p in compact_text for p in self._phrases):
            return "person"
        if _REAL_PERSON.search(compact_text) or _ENGLISH.search(normalized):
            return "person"
        if any(p in compact_text for p in self._complaints):
            return "complaint"
        return None


def _normalized(words: Iterable[str]) -> list[str]:
    return [key for key in (normalize(word).replace(" ", "") for word in words) if key]

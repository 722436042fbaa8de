"""Knowledge-base entries as other plugins see them: what `csgw_knowledge_search` answers and
`Gateway.knowledge` hands on (a language model grounds its answers and drafts in them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KnowledgeEntry:
    """One entry, with its answer for the channel asked from; `score`: how near the question is
    (the knowledge base's own probability, 0..1)."""

    id: str
    question: str
    answer: str
    category: str | None = None
    score: float = 0.0

"""Whether a keyword hit may answer on its own, or needs retrieval to agree.

A rule word is a strong signal, but not in two shapes of message: the bare word alone
("运费"), which several entries may be about, and a long message about something else
that happens to hold the word ("我手机屏幕碎了你们能修吗" holds 碎了). Retrieval is only
asked in those shapes, so an ordinary keyword hit costs one extra word cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from .keywords import KeywordHit
from .retrieval import Candidate, Decision, Retriever

# Words of the message that are neither the rule's words, nor filler, nor in any of the entry's
# texts: at this many, the message is probably about something else.
MANY_UNRELATED = 3


@dataclass(frozen=True, slots=True)
class Support:
    """`answer`: the hit stands. `clarify`: ask back with `decision`'s candidates.
    `retrieval`: ignore the hit and go by `decision`, made from `ranked`."""

    kind: Literal["answer", "clarify", "retrieval"]
    decision: Decision | None = None
    ranked: Sequence[Candidate] = field(default_factory=tuple)


ANSWER = Support("answer")


def _explains(token: str, matched: Sequence[str]) -> bool:
    return any(token in word or word in token for word in matched)


def check(hit: KeywordHit, text: str, retriever: Retriever, channel: str | None = None) -> Support:
    """How far `hit` (the single best keyword hit for normalised `text`) can be trusted."""
    words = retriever.message_words(text)
    rest = [(token, folded) for token, folded in words if not _explains(token, hit.matched)]
    if len(words) == 1 and not rest:
        # the message is one rule word and nothing else: it names a topic, and retrieval
        # knows whether other entries share it
        ranked = retriever.rank(text, channel)
        decision = retriever.decide(ranked)
        if decision.kind == "clarify" and len(decision.candidates) > 1:
            return Support("clarify", decision, ranked)
        return ANSWER
    unrelated = [folded for _token, folded in rest
                 if not retriever.is_function_word(folded)
                 and not retriever.entry_knows(hit.entry_id, folded)]
    if len(unrelated) < MANY_UNRELATED:
        return ANSWER
    ranked = retriever.rank(text, channel)
    own = next((candidate for candidate in ranked if candidate.entry_id == hit.entry_id), None)
    if own is not None and own.score >= retriever.settings.clarify_threshold:
        return ANSWER
    return Support("retrieval", retriever.decide(ranked), ranked)

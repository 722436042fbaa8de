"""What one question is about, for counting: the KB entry that answered it, the cluster of
unanswered questions it belongs to, the escalation lanes it fell in.

Unanswered questions are clustered the way `csgw kb gaps` groups them: their letters and digits,
compared with rapidfuzz, the same question at `SAME_QUESTION` or closer. A cluster is named by
the form of its first question.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from csgw.gateway.answers import Decision
from csgw.gateway.reply import UNANSWERED_SOURCES

from .config import IncidentsConfig
from .examples import example_text

SAME_QUESTION = 72  # rapidfuzz ratio (0..100), as `csgw kb gaps` clusters
MAX_FORM = 100  # a question's form is cut here: a cluster's name fits its column
MAX_KEY = 200  # `IncidentTopic.key`


@dataclass(frozen=True, slots=True)
class Ask:
    """One customer's question about one topic. For an unanswered question `key` is its form
    until the store tells which cluster it joins."""

    kind: str
    key: str
    customer_id: int
    conversation_id: int
    text: str  # as an example: personal data masked


def question_form(text: str) -> str:
    """Letters and digits only, width and case folded: "支付 失败！" and "支付失败" are one form."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if unicodedata.category(char)[0] in "LN")[:MAX_FORM]


def clusterable(form: str) -> bool:
    """A form worth clustering: a menu digit or a single character says nothing."""
    return len(form) >= 2 and not form.isdigit()


def nearest(form: str, clusters: Iterable[str]) -> str | None:
    """The cluster (by its name, a form) `form` belongs to, or None."""
    best, best_score = None, float(SAME_QUESTION)
    for cluster in clusters:
        score = 100.0 if cluster == form else fuzz.ratio(form, cluster)
        if score >= best_score:
            best, best_score = cluster, score
    return best


def asks_in(decision: Decision, config: IncidentsConfig) -> list[Ask]:
    """The topics one decided answer counts towards: its entry, or its unanswered question; and
    each lane a classifier put it in."""
    context, reply = decision.context, decision.reply
    text = example_text(context.text or "")

    def ask(kind: str, key: str) -> Ask:
        return Ask(kind, key[:MAX_KEY], context.customer_id, context.conversation_id, text)

    asks = []
    if reply is not None and reply.entry_id and config.watches("entry"):
        asks.append(ask("entry", reply.entry_id))
    elif reply is not None and reply.source in UNANSWERED_SOURCES and config.watches("unanswered"):
        form = question_form(context.text or "")
        if clusterable(form):
            asks.append(ask("unanswered", form))
    if config.watches("lane"):
        asks.extend(ask("lane", lane) for lane in dict.fromkeys(decision.verdict.tags) if lane)
    return asks

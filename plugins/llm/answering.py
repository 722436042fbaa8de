"""One customer question answered from the knowledge-base entries nearest to it: asked with the
strict prompt, checked (`grounding.check`), or not answered and why. The gateway's reply override
and `bench/bench_llm.py` both go through `answer`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from csgw.gateway.knowledge import KnowledgeEntry

from . import grounding, prompts
from .client import LlmError
from .model import LanguageModel

log = structlog.get_logger("csgw.llm")


@dataclass(frozen=True, slots=True)
class Outcome:
    """`text` for the customer and the `entry` it cites first when `answered`; else `reason`:
    the model's failure (timeout, rate_limited, unavailable, refused, bad_response, paused) or
    the check's (unknown, empty, no_citation, unknown_citation, invented_number)."""

    answered: bool
    reason: str
    text: str = ""
    entry: KnowledgeEntry | None = None
    cited: tuple[str, ...] = ()
    milliseconds: int | None = None


async def answer(model: LanguageModel, question: str, entries: Sequence[KnowledgeEntry], language: str,
                 orders: Sequence[str] = (), **context: Any) -> Outcome:
    """`orders`: the customer's own orders (JSON objects) for a question about one."""
    orders = [model.outgoing(order) for order in orders]
    messages = prompts.grounded(model.outgoing(question), entries, language, orders)
    try:
        completion = await model.ask("answer", messages, timeout=model.config.timeout_seconds, **context)
    except LlmError as error:
        model.availability.fell_back(error.kind)
        return Outcome(False, error.kind)
    verdict = grounding.check(completion.text, entries, question, orders)
    if not verdict.ok:
        model.availability.fell_back(verdict.reason)
        log.info("llm answer dropped", reason=verdict.reason, detail=verdict.detail, **context)
        return Outcome(False, verdict.reason, milliseconds=completion.milliseconds)
    entry = next(entry for entry in entries if entry.id == verdict.cited[0])
    return Outcome(True, "grounded", verdict.text, entry, verdict.cited, completion.milliseconds)

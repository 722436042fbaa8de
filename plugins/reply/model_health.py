"""The meaning model in `/healthz`: vectors made, messages matched on words instead and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csgw.gateway.health_check import CheckResult

if TYPE_CHECKING:
    from .plugin import StoredKnowledgeBase


class ModelCheck:
    """Always ok: a fallback to words is the model's designed answer to load, not a fault; its
    count (the value) tells an operator how often messages went without meaning."""

    name = "meaning_model"

    def __init__(self, kb: StoredKnowledgeBase) -> None:
        self.kb = kb

    async def run(self) -> CheckResult:
        encoder = self.kb.encoder
        if encoder is None:
            return CheckResult(self.name, "ok", None, detail={"model": "off"})
        return CheckResult(self.name, "ok", encoder.fallbacks,
                           detail={"model": encoder.embedder.name, **encoder.stats(),
                                   "ms_per_text": round(encoder.per_text * 1000, 2)})

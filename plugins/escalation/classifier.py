"""Keyword lanes from `[escalation] rules`: complaint, urgent order, payment trouble, or the shop's own."""

from __future__ import annotations

from csgw.config.schema import EscalationRule
from csgw.gateway.reply import ReplyContext
from csgw.gateway.routing import Classification


class RuleClassifier:
    name = "basic_escalation"

    def __init__(self, rules: list[EscalationRule]) -> None:
        self.rules = [(rule, tuple(k.lower() for k in rule.keywords if k)) for rule in rules]

    async def classify(self, context: ReplyContext) -> Classification | None:
        text = context.text.lower()
        matched = [rule for rule, keywords in self.rules if any(k in text for k in keywords)]
        if not matched:
            return None
        top = max(matched, key=lambda r: r.priority)
        return Classification(priority=top.priority, flags=tuple(r.name for r in matched),
                              handover=any(r.handover for r in matched), tags=tuple(r.name for r in matched),
                              group=top.group or next((r.group for r in matched if r.group), None))

"""Where the model meets customers: a reply override that acts only when the knowledge base was
unsure (it asked back or found nothing) and no one asked for a person. The entries nearest to the
question go to the model (with the customer's orders when the question is about one); a checked
answer replaces the knowledge base's question back, anything else leaves it as it was. A channel waiting inline (WeChat) is acknowledged before the model is
asked, so the answer goes out through the channel's send API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from csgw.gateway.reply import UNANSWERED_SOURCES, Reply

from . import answering, orders
from .model import LanguageModel

if TYPE_CHECKING:
    from csgw.gateway.answers import Decision
    from csgw.gateway.ports import Gateway

SOURCE = "llm"


class GroundedAnswers:
    name = "llm"

    def __init__(self, services: Gateway, model: LanguageModel) -> None:
        self.services = services
        self.model = model

    async def override(self, decision: Decision) -> Reply | None:
        context, reply = decision.context, decision.reply
        if reply is None or reply.source not in UNANSWERED_SOURCES or decision.verdict.handover:
            return None  # answered, asked for a person, or a complaint: not the model's to touch
        if context.kind != "text" or not context.text.strip():
            return None
        config = self.model.config
        if not config.answers_on(context.channel, context.account):
            return None
        if not self.model.availability.ready():
            self.model.availability.fell_back("paused")
            return None
        entries = await self.services.knowledge(context.text, context.channel, context.account, config.entries)
        if not entries:
            return None
        context.answer_later()
        asks = orders.asks_about_orders(context.text)
        known = await orders.orders_of(self.services, context.customer_id) if asks else []
        outcome = await answering.answer(self.model, context.text, entries, context.language, known,
                                         conversation_id=context.conversation_id)
        if not outcome.answered or outcome.entry is None:
            return None
        entry = outcome.entry
        payload: dict[str, Any] = {"llm": {"model": config.model, "entries": list(outcome.cited), "ms": outcome.milliseconds}}
        if entry.category:
            payload["category"] = entry.category
        # The bot memory as before this message: the knowledge base's question back never happened.
        # A hand-over it asked for (the customer's second miss) still happens, after the answer.
        return Reply(outcome.text, handover=reply.handover, source=SOURCE, entry_id=entry.id, score=entry.score,
                     payload=payload, bot_state=dict(context.bot_state), group=entry.category,
                     tags=(entry.category,) if entry.category else ())

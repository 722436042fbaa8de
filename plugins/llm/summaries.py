"""A summary for the agent who takes a conversation over: when the bot hands it over or an agent
transfers it, the model sums it up and the summary is left as an internal note (never sent to
the customer). Written in the background: the hand-over itself never waits for the model."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import structlog

from csgw.gateway.models import Conversation
from csgw.gateway.notes import add_bot_note

from . import assist
from .client import LlmError
from .model import LanguageModel

if TYPE_CHECKING:
    from csgw.gateway.ports import Gateway

log = structlog.get_logger("csgw.llm")
CHANGES = ("handed_over", "transferred")
MIN_CUSTOMER_MESSAGES = 2  # a first "转人工" has nothing to sum up
LABELS = {"zh-Hans": "AI 摘要：", "zh-Hant": "AI 摘要：", "en": "AI summary: "}


class HandoverSummaries:
    def __init__(self, services: Gateway, model: LanguageModel) -> None:
        self.services = services
        self.model = model
        self.tasks: set[asyncio.Task[None]] = set()

    def changed(self, conversation: dict[str, Any], change: str) -> None:
        if change in CHANGES:
            task = asyncio.create_task(self._note(int(conversation["id"]), change))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _note(self, conversation_id: int, change: str) -> None:
        conversation = await Conversation.get_or_none(id=conversation_id)
        if conversation is None:
            return
        _, asked = await assist.transcript_of(self.model, conversation)
        if len(asked) < MIN_CUSTOMER_MESSAGES:
            return
        language = self.services.settings.server.language
        try:
            text = await assist.summary(self.model, conversation, language)
        except LlmError as error:
            log.info("no summary for the hand-over", conversation_id=conversation_id, kind=error.kind)
            return
        await add_bot_note(self.services.writer, self.services.events, conversation,
                           LABELS.get(language, LABELS["zh-Hans"]) + text,
                           {"source": "llm", "summary": change})

    async def stop(self) -> None:
        """A summary still waiting for the model is given up: the drain has seconds, not half a minute."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

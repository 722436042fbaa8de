"""The configured model as the rest of the plugin asks it: personal data masked on the way out
(unless `[llm] send_personal_data`), every exchange logged (masked, never the key), failures
counted for health and pauses, and answers timed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import structlog

from csgw.gateway.personal_data import mask_personal_data

from .availability import Availability
from .client import ChatClient, Completion, LlmError, SessionSource
from .config import LlmConfig

log = structlog.get_logger("csgw.llm")
LOGGED_CHARS = 4000  # of a prompt or an answer in the log


class LanguageModel:
    def __init__(self, config: LlmConfig, session: SessionSource = lambda: None,
                 window_seconds: float = 300, clock: Callable[[], float] | None = None) -> None:
        self.config = config
        self.client = ChatClient(config, session)
        self.availability = Availability(window_seconds, clock or time.monotonic)

    def outgoing(self, text: str) -> str:
        """A customer's words as they may leave the machine."""
        return text if self.config.send_personal_data else mask_personal_data(text)

    async def ask(self, purpose: str, messages: list[dict[str, str]], *, timeout: float,
                  max_tokens: int | None = None, **context: Any) -> Completion:
        """The model's answer; `LlmError` when there is none (also when calls are paused)."""
        if not self.availability.ready():
            raise LlmError("paused", "the model is paused after failures; the knowledge base answers meanwhile")
        try:
            completion = await self.client.complete(messages, timeout=timeout, max_tokens=max_tokens)
        except LlmError as error:
            self.availability.failed(error)
            log.warning("llm call failed", purpose=purpose, kind=error.kind, status=error.status,
                        error=str(error), prompt=_logged(messages), **context)
            raise
        self.availability.succeeded(completion.milliseconds)
        log.info("llm exchange", purpose=purpose, model=completion.model, ms=completion.milliseconds,
                 finish=completion.finish_reason, prompt=_logged(messages),
                 output=mask_personal_data(completion.text)[:LOGGED_CHARS], **context)
        return completion


def _logged(messages: list[dict[str, str]]) -> str:
    """The prompt as the log keeps it (the fixed instructions left out): personal data masked even
    where the shop lets it out."""
    text = json.dumps([{"role": m["role"], "content": mask_personal_data(m["content"])}
                       for m in messages if m["role"] != "system"], ensure_ascii=False)
    return text[:LOGGED_CHARS]

"""Help for agents, never for customers directly: a reply draft for the open conversation (the
agent edits and sends it; nothing here sends anything) and a short summary of a conversation
(asked for, or left as an internal note when the bot hands over or an agent transfers)."""

from __future__ import annotations

from dataclasses import dataclass

from csgw.gateway.knowledge import KnowledgeEntry
from csgw.gateway.models import Conversation, Message

from . import grounding, prompts
from .client import LlmError
from .model import LanguageModel

TRANSCRIPT_MESSAGES = 30  # the latest ones
MESSAGE_CHARS = 500
SPEAKERS = {"customer": "customer", "bot": "bot", "agent": "agent"}


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    entries: tuple[str, ...]  # the knowledge-base entries it says it used


async def transcript_of(model: LanguageModel, conversation: Conversation) -> tuple[str, list[Message]]:
    """The conversation's latest words with the customer, one line each, as they may leave the
    machine; and the customer's own messages among them."""
    rows = await Message.filter(conversation_id=conversation.id, direction__in=("in", "out"),
                                sender__in=tuple(SPEAKERS)).order_by("-id").limit(TRANSCRIPT_MESSAGES)
    rows.reverse()
    lines = [f"{SPEAKERS[row.sender]}: {model.outgoing(row.text[:MESSAGE_CHARS])}" for row in rows if row.text]
    return "\n".join(lines), [row for row in rows if row.sender == "customer" and row.text]


async def draft(model: LanguageModel, conversation: Conversation, entries: list[KnowledgeEntry]) -> Draft:
    """`LlmError` when the model fails or has nothing to say."""
    transcript, _ = await transcript_of(model, conversation)
    completion = await model.ask("draft", prompts.draft(transcript, entries),
                                 timeout=model.config.assist_timeout_seconds, conversation_id=conversation.id)
    given = {entry.id for entry in entries}
    cited = tuple(entry_id for entry_id in dict.fromkeys(grounding.CITATION.findall(completion.text))
                  if entry_id in given)
    text = grounding.without_citations(completion.text.replace(prompts.NO_ANSWER, ""))
    if not text:
        raise LlmError("bad_response", "the model wrote no draft")
    return Draft(text, cited)


async def summary(model: LanguageModel, conversation: Conversation, language: str) -> str:
    transcript, _ = await transcript_of(model, conversation)
    if not transcript:
        raise LlmError("bad_response", "the conversation has no messages to sum up")
    completion = await model.ask("summary", prompts.summary(transcript, language),
                                 timeout=model.config.assist_timeout_seconds, conversation_id=conversation.id)
    text = completion.text.strip()
    if not text:
        raise LlmError("bad_response", "the model wrote no summary")
    return text


async def recent_questions(conversation: Conversation, count: int = 3) -> list[str]:
    """The customer's latest messages, newest first: what a draft answers (the very last may be
    "转人工", the question before it)."""
    rows = await Message.filter(conversation_id=conversation.id, direction="in", sender="customer") \
        .exclude(text="").order_by("-id").limit(count)
    return [row.text for row in rows]


def nearest_of(found: list[list[KnowledgeEntry]], limit: int) -> list[KnowledgeEntry]:
    """The entries found for several questions (newest question first), each once, at most
    `limit`: the newest question's first, so an older one cannot crowd out what was just asked."""
    chosen: dict[str, KnowledgeEntry] = {}
    for entries in found:
        for entry in entries:
            chosen.setdefault(entry.id, entry)
    return list(chosen.values())[:limit]

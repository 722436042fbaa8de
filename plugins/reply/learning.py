"""Learn from the desk: a question an agent answered with a KB entry becomes a proposed paraphrase.

Proposals wait for review; accepting one appends the question to the entry's `similar`, which
changes the stored knowledge base, so the running engine rebuilds and matches it at once.
"""

from __future__ import annotations

from typing import Any

import structlog

from csgw.gateway.clock import now
from csgw.gateway.models import Message

from .models import KnowledgeEntry, KnowledgeProposal
from .normalize import compact

log = structlog.get_logger(__name__)

ANSWERED = frozenset({"keyword", "retrieval", "menu"})  # reply sources that answered the customer
LOOK_BACK = 20  # customer messages searched for the question an agent's reply answered


class LearningError(ValueError):
    """A proposal that cannot be made or decided; the message says why, for the agent."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def customer_question(conversation_id: int, before_id: int | None = None) -> Message | None:
    """The customer's latest text message in the conversation the bot did not answer."""
    query = Message.filter(conversation_id=conversation_id, direction="in", sender="customer")
    if before_id is not None:
        query = query.filter(id__lt=before_id)
    inbound = await query.order_by("-id").limit(LOOK_BACK)
    if not inbound:
        return None
    replies = await Message.filter(reply_to_id__in=[m.id for m in inbound], sender="bot")
    sources: dict[int, list[dict[str, Any]]] = {}
    for reply in replies:
        sources.setdefault(reply.reply_to_id, []).append(reply.payload or {})
    for message in inbound:
        if _is_open_question(message, sources.get(message.id, [])):
            return message
    return None


def _is_open_question(message: Message, bot_payloads: list[dict[str, Any]]) -> bool:
    text = compact(message.text or "")
    if not text or text.isdigit():  # a menu number is not a question
        return False
    for payload in bot_payloads:
        if payload.get("source") in ANSWERED or payload.get("source") == "smalltalk":
            return False
        if payload.get("handover") in ("person", "complaint"):
            return False  # "转人工" itself; the question, if any, came before it
    return True


async def propose(entry_key: str, message: Message, agent_id: int | None = None) -> KnowledgeProposal | None:
    """Propose `message`'s text as a paraphrase of `entry_key`; None when the entry has it already."""
    entry = await KnowledgeEntry.get_or_none(key=entry_key)
    if entry is None:
        raise LearningError("unknown_entry", f"no knowledge-base entry {entry_key!r}")
    question = (message.text or "").strip()
    normalized = compact(question)[:255]
    if not normalized:
        raise LearningError("no_question", "the customer's message has no text to learn from")
    if normalized in {compact(text) for text in (entry.question, *(entry.similar or []))}:
        return None
    proposal, created = await KnowledgeProposal.get_or_create(
        entry_key=entry_key, normalized=normalized,
        defaults={"question": question, "message_id": message.id, "agent_id": agent_id})
    if created:
        log.info("kb paraphrase proposed", entry=entry_key, proposal=proposal.id)
    return proposal


async def propose_from_conversation(entry_key: str, conversation_id: int, before_id: int | None = None,
                                    agent_id: int | None = None) -> KnowledgeProposal | None:
    """Propose the conversation's open customer question (before `before_id`) for `entry_key`."""
    message = await customer_question(conversation_id, before_id)
    if message is None:
        raise LearningError("no_question", "no customer question the bot left unanswered")
    return await propose(entry_key, message, agent_id)


async def proposals(state: str | None = "pending", limit: int = 200) -> list[KnowledgeProposal]:
    query = KnowledgeProposal.all() if state is None else KnowledgeProposal.filter(state=state)
    return await query.order_by("id").limit(limit)


async def decide(proposal_id: int, accept: bool) -> KnowledgeProposal:
    """Accept (append to the entry's `similar`) or reject a pending proposal."""
    proposal = await KnowledgeProposal.get_or_none(id=proposal_id)
    if proposal is None:
        raise LearningError("not_found", f"no proposal {proposal_id}")
    if proposal.state != "pending":
        raise LearningError("decided", f"proposal {proposal_id} is already {proposal.state}")
    if accept:
        entry = await KnowledgeEntry.get_or_none(key=proposal.entry_key)
        if entry is None:
            raise LearningError("unknown_entry", f"entry {proposal.entry_key!r} no longer exists")
        similar = list(entry.similar or [])
        if proposal.normalized not in {compact(text) for text in (entry.question, *similar)}:
            entry.similar = [*similar, proposal.question]
            await entry.save()  # a new updated_at: the running engine rebuilds
    proposal.state = "accepted" if accept else "rejected"
    proposal.decided_at = now()
    await proposal.save()
    return proposal


def proposal_view(proposal: KnowledgeProposal) -> dict[str, Any]:
    return {
        "id": proposal.id, "entry_id": proposal.entry_key, "question": proposal.question,
        "message_id": proposal.message_id, "agent_id": proposal.agent_id, "state": proposal.state,
        "created_at": proposal.created_at.isoformat() if proposal.created_at else None,
        "decided_at": proposal.decided_at.isoformat() if proposal.decided_at else None,
    }

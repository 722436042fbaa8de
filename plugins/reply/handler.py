"""The knowledge base as a reply handler: a `ReplyEngine` behind the gateway's `ReplyHandler` seam."""

from __future__ import annotations

from csgw.gateway.reply import Reply, ReplyContext

from .engine import MatchResult, ReplyEngine


class KnowledgeBaseReplies:
    """Answers a conversation's message from the knowledge base, asks back, or hands over.

    Swap `engine` (or call `engine.rebuild`) when the knowledge base changes: a message being
    answered keeps the engine it started with.
    """

    def __init__(self, engine: ReplyEngine, name: str = "kb", priority: int = 100) -> None:
        self.engine = engine
        self.name = name
        self.priority = priority

    async def reply(self, context: ReplyContext) -> Reply | None:
        if not context.text or not context.text.strip():
            return None  # images, stickers, voice without recognition: nothing to match
        result = self.engine.match(context.text, channel=context.channel,
                                   bot_state=context.bot_state, language=context.language)
        return to_reply(result)


def to_reply(result: MatchResult) -> Reply | None:
    """The gateway's `Reply` for a match; None when there is nothing to say or do."""
    if result.text is None and not result.handover:
        # "好的", "嗯": handled, nothing to say — not a question for a person either.
        return Reply(None, source=result.source) if result.source == "smalltalk" else None
    return Reply(
        text=result.text,
        handover=result.handover,
        source=result.source,
        entry_id=result.entry_id,
        score=result.score,
        payload=dict(result.payload),
        bot_state=result.bot_state,
        group=result.group,
    )

"""The knowledge base as a reply handler: a `ReplyEngine` behind the gateway's `ReplyHandler` seam."""

from __future__ import annotations

import numpy as np

from csgw.gateway.knowledge import KnowledgeEntry
from csgw.gateway.reply import Reply, ReplyContext

from .engine import MatchResult, ReplyEngine
from .query_encoder import QueryEncoder
from .scopes import site_of


class KnowledgeBaseReplies:
    """Answers a conversation's message from the knowledge base, asks back, or hands over.

    Swap `engine` (or call `engine.rebuild`) when the knowledge base changes: a message being
    answered keeps the engine it started with.
    """

    def __init__(self, engine: ReplyEngine, name: str = "kb", priority: int = 100,
                 encoder: QueryEncoder | None = None) -> None:
        self.engine = engine
        self.name = name
        self.priority = priority
        self.encoder = encoder

    async def match(self, text: str, channel: str | None = None, bot_state: dict | None = None,
                    language: str | None = None) -> MatchResult:
        """The engine's decision, with the message's vector when the model has one in time and
        the decision uses it (menu numbers, hand-over words, smalltalk, keyword rules do not)."""
        engine = self.engine
        needed = engine.needs_meaning(text, channel, bot_state, language)
        return engine.match(text, channel=channel, bot_state=bot_state, language=language,
                            vector=await self._vector(engine, text) if needed else None)

    async def nearest(self, text: str, site: str, limit: int) -> list[KnowledgeEntry]:
        """The entries nearest to `text` asked from `site`, with their answers there."""
        engine = self.engine
        entries = engine.entries
        return [KnowledgeEntry(c.entry_id, entries[c.entry_id].question, entries[c.entry_id].answer_for(site),
                               entries[c.entry_id].category, round(c.score, 4))
                for c in engine.nearest(text, site, await self._vector(engine, text), limit)]

    async def _vector(self, engine: ReplyEngine, text: str) -> np.ndarray | None:
        """The message's vector when the model has one in time (else words alone decide)."""
        if self.encoder is None or not engine.semantic_ready:
            return None
        query = engine.query_text(text)
        known = engine.known_vector(query)
        return known if known is not None else await self.encoder.encode(query)

    async def reply(self, context: ReplyContext) -> Reply | None:
        site = site_of(context.channel, context.account)  # entries scoped to other sites stay out
        action = context.payload.get("menu_action") if context.kind == "event" else None
        if isinstance(action, str) and action != "handover":  # a channel's menu button
            return to_reply(self.engine.act(action, site, context.bot_state, context.language))
        if not context.text or not context.text.strip():
            return None  # images, stickers, voice without recognition: nothing to match
        result = await self.match(context.text, site, context.bot_state, context.language)
        return to_reply(result)


def to_reply(result: MatchResult) -> Reply | None:
    """The gateway's `Reply` for a match; None when there is nothing to say or do."""
    if result.text is None and not result.handover:
        # "好的", "嗯": handled, nothing to say — not a question for a person either.
        return Reply(None, source=result.source) if result.source == "smalltalk" else None
    payload = dict(result.payload)
    category = result.category or result.nearest_category
    if category:  # the question's KB category: the report counts unanswered questions under it
        payload["category"] = category
    if result.decision is not None:
        # for the console: why the bot answered, asked back or gave up (channels ignore it)
        payload["why"] = result.why()
    return Reply(
        text=result.text,
        handover=result.handover,
        source=result.source,
        entry_id=result.entry_id,
        score=result.score,
        payload=payload,
        bot_state=result.bot_state,
        group=result.group,
        # the question's category, when the bot answered or offered answers: a tag for agents
        tags=(result.category,) if result.category else (),
    )

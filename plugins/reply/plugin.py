"""The builtin `kb` reply plugin: the knowledge base in the database behind the reply engine.

At start an empty store is seeded from `[reply] knowledge_base`. The engine is rebuilt (in a
thread, then swapped in one reference) whenever the stored knowledge base changes — through the
agent API or `csgw kb import` from another process — checked at most every few seconds.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import structlog

from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.models import KnowledgeEntry, Message
from csgw.gateway.reply import Reply, ReplyContext

from . import kb_store, learning
from .engine import EngineSettings, ReplyEngine
from .handler import KnowledgeBaseReplies
from .kb import KnowledgeBase, load_kb

log = structlog.get_logger(__name__)
CHECK_SECONDS = 3.0


class StoredKnowledgeBase(KnowledgeBaseReplies):
    def __init__(self, settings: Any) -> None:
        self.engine_settings = EngineSettings.model_validate(settings.reply.engine)
        super().__init__(ReplyEngine.from_kb(KnowledgeBase(), self.engine_settings), name="kb", priority=100)
        self.settings = settings
        self._version: tuple[int, str] | None = None
        self._checked = 0.0
        self._lock = asyncio.Lock()

    async def seed(self) -> None:
        path = self.settings.reply.knowledge_base
        if not path or await KnowledgeEntry.all().exists():
            return
        file = Path(path) if Path(path).is_absolute() else Path(self.settings.base_dir) / path
        kb = await asyncio.to_thread(load_kb, file)
        created, _ = await kb_store.import_knowledge_base(kb)
        log.info("knowledge base seeded", file=str(file), entries=created)

    async def refresh(self, force: bool = False) -> bool:
        """Rebuild the engine if the stored knowledge base changed; True when it did."""
        if not force and time.monotonic() - self._checked < CHECK_SECONDS:
            return False
        async with self._lock:
            self._checked = time.monotonic()
            current = await kb_store.version()
            if current == self._version and not force:
                return False
            kb = await kb_store.load_knowledge_base()
            self.engine = await asyncio.to_thread(ReplyEngine.from_kb, kb, self.engine_settings)
            self._version = current
            log.info("knowledge base loaded", entries=len(kb.entries))
            return True

    async def reply(self, context: ReplyContext) -> Reply | None:
        await self.refresh()
        return await super().reply(context)


@hookimpl
def csgw_reply_handlers(settings: Any) -> list[StoredKnowledgeBase]:
    return [StoredKnowledgeBase(settings)]


@hookimpl
def csgw_routes(services: Any) -> list[Any]:
    from .api import routes
    from .api_learning import routes as learning_routes

    return [*learning_routes, *routes]


@hookimpl
async def csgw_message_sent(services: Any, message: Any) -> None:
    """An agent's reply that names the KB entry it used proposes the customer's question."""
    entry_key = (message.payload or {}).get("kb_entry_id")
    if message.sender != "agent" or not isinstance(entry_key, str) or not entry_key:
        return
    row = await Message.get_or_none(id=message.message_id)
    try:
        await learning.propose_from_conversation(entry_key, message.conversation_id, message.message_id,
                                                 agent_id=row.agent_id if row else None)
    except learning.LearningError as error:
        log.info("nothing to learn from the agent's reply", reason=error.code, entry=entry_key)


@hookimpl
def csgw_cli(app: Any) -> None:
    from .cli import kb_app

    app.add_typer(kb_app, name="kb")


@hookimpl
async def csgw_startup(services: Any) -> None:
    for handler in services.reply_handlers:
        if isinstance(handler, StoredKnowledgeBase):
            await handler.seed()
            await handler.refresh(force=True)

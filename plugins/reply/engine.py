"""The reply engine: menu numbers, hand-over words, keyword rules, then retrieval, in that order.

A keyword hit answers unless the message is the bare word of several entries (ask back) or
mostly about something else with retrieval not backing the entry (`keyword_support`).

`ReplyEngine.match` is pure: text, channel and the conversation's bot state in, a `MatchResult`
out (what to send, the new bot state, whether to hand over, and why). A knowledge-base change
builds a whole new index and swaps one reference, so matching never sees half a rebuild.

Because it is pure, decisions for conversations with no engine state (no menu position, no
misses: almost every FAQ question) are remembered per index, keyed by the exact text: shops
hear the same few questions all day, and a repeat costs a dict lookup instead of a match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from csgw.gateway.bounded_cache import BoundedCache

from . import fusion, keyword_support, smalltalk
from .handover import HandoverDetector, HandoverSettings
from .homophones import HomophoneCorrector
from .kb import Entry, KnowledgeBase
from .keywords import KeywordHit, KeywordIndex
from .menu import Menu, MenuReply, MenuSettings
from .normalize import normalize
from .retrieval import Candidate, Decision, RetrievalSettings, Retriever
from .semantic import SemanticIndex

if TYPE_CHECKING:
    from .embeddings import Embedder, Progress, VectorCache

STATE_KEY = "kb"  # the engine's part of the conversation's bot state
DECISION_CACHE_SIZE = 4096


class EngineSettings(BaseModel):
    """Everything tunable about matching: thresholds, menu, hand-over words, fallback."""

    model_config = ConfigDict(extra="forbid")

    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    menu: MenuSettings = Field(default_factory=MenuSettings)
    handover: HandoverSettings = Field(default_factory=HandoverSettings)
    no_match: Literal["menu", "handover"] = "menu"  # what an unanswered message gets first
    handover_after_misses: int = 2  # consecutive unanswered messages before a person takes over
    # "e5": the bundled multilingual-e5-small model adds meaning to word matching; "off": words only
    model: Literal["e5", "off"] = "e5"
    model_threads: int | None = Field(default=1, ge=1)  # cores for the model (None: all); the loop keeps the rest
    model_queue: int = Field(default=8, ge=1)  # messages waiting for the model; more fall back to words
    model_timeout_ms: int = Field(default=300, ge=10)  # a message waits this long for its vector
    # a message that would wait longer than this for its vector (the model busy) is matched on words
    model_wait_ms: int = Field(default=40, ge=0)
    semantic_candidates: int = Field(default=8, ge=1)  # entries nearest in meaning added to the word ones


@dataclass(frozen=True, slots=True)
class MatchResult:
    """One decision, explained: what answered (if anything), how sure, and what to send."""

    answered: bool
    source: str  # keyword / retrieval / menu / clarify / handover / none
    entry_id: str | None = None
    answer: str | None = None  # the entry's answer for the channel
    score: float | None = None
    candidates: tuple[Candidate, ...] = ()  # runner-ups, or the entries a clarification offers
    text: str | None = None  # the message to send (answer, menu, clarifying question)
    payload: dict[str, Any] = field(default_factory=dict)
    bot_state: dict[str, Any] = field(default_factory=dict)
    handover: bool = False
    reason: str | None = None  # why: person, complaint, no_match, ambiguous, …
    group: str | None = None  # the KB category the message points to
    decision: str | None = None  # the decision layer's reason: confident, close_call, unsure, topic, …
    semantic: bool = False  # whether the message's meaning (its vector) was used
    best: Candidate | None = None  # retrieval's best candidate, with its signals
    category: str | None = None  # the KB category of the entry answered, or of the first offered back
    # a question not answered: the category of the entry it came nearest to (not a tag: maybe far)
    nearest_category: str | None = None

    def why(self) -> dict[str, Any]:
        """The decision layer's reason and the candidates it weighed, with their signals."""
        weighed = [self.best] if self.best is not None else []
        weighed += [c for c in self.candidates[:3] if self.best is None or c.entry_id != self.best.entry_id]
        return {"decision": self.decision, "semantic": self.semantic,
                "candidates": [candidate.to_dict() for candidate in weighed]}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object `csgw kb test` prints."""
        return {
            "answered": self.answered,
            "entry_id": self.entry_id,
            "answer": self.answer,
            "source": self.source,
            "score": None if self.score is None else round(self.score, 4),
            "candidates": [candidate.to_dict() for candidate in self.candidates],
            "handover": self.handover,
            "reason": self.reason,
            "decision": self.decision,
            "semantic": self.semantic,
            "signals": self.best.to_dict().get("signals") if self.best is not None else None,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class _Index:
    entries: Mapping[str, Entry]
    keywords: KeywordIndex
    retriever: Retriever
    menu: Menu
    homophones: HomophoneCorrector
    semantic: SemanticIndex | None
    # (text, channel as plugin/account, language, with a vector) -> the decision for a
    # conversation without engine state: one site's answer or menu is never another's
    decisions: BoundedCache = field(default_factory=lambda: BoundedCache(DECISION_CACHE_SIZE))
    # (text, channel, language) -> whether retrieval decides it, without engine state (`needs_meaning`)
    meaning: BoundedCache = field(default_factory=lambda: BoundedCache(DECISION_CACHE_SIZE))


def _kb_words(entries: Iterable[Entry]) -> set[str]:
    """Words the KB cares about, so jieba keeps them whole."""
    words: set[str] = set()
    for entry in entries:
        for rule in entry.keywords:
            words.update(rule.any)
            words.update(word for group in rule.all_groups() for word in group)
        words.update(entry.category_path)
    return words


class ReplyEngine:
    """Matches customer messages against a knowledge base; safe to rebuild while in use."""

    def __init__(self, entries: Sequence[Entry], settings: EngineSettings | None = None,
                 synonyms: Iterable[Sequence[str]] = (), embedder: Embedder | None = None,
                 cache: VectorCache | None = None, progress: Progress | None = None) -> None:
        self.settings = settings or EngineSettings()
        self.embedder = embedder
        self.cache = cache
        self.progress = progress
        self.fusion = fusion.default_model()
        self.embedded = 0  # texts the last build had to embed (the rest came from the cache)
        self._detector = HandoverDetector(self.settings.handover)
        self._index = self._build(entries, synonyms)

    @classmethod
    def from_entries(cls, entries: Sequence[Entry], menu_settings: MenuSettings | None = None, *,
                     settings: EngineSettings | None = None,
                     synonyms: Iterable[Sequence[str]] = (), embedder: Embedder | None = None,
                     cache: VectorCache | None = None) -> ReplyEngine:
        settings = settings or EngineSettings()
        if menu_settings is not None:
            settings = settings.model_copy(update={"menu": menu_settings})
        return cls(entries, settings, synonyms, embedder, cache)

    @classmethod
    def from_kb(cls, kb: KnowledgeBase, settings: EngineSettings | None = None,
                embedder: Embedder | None = None, cache: VectorCache | None = None,
                progress: Progress | None = None) -> ReplyEngine:
        return cls(kb.entries, settings, kb.synonyms, embedder, cache, progress)

    def _build(self, entries: Sequence[Entry], synonyms: Iterable[Sequence[str]]) -> _Index:
        entries = list(entries)
        retriever = Retriever(entries, synonyms, self.settings.retrieval, _kb_words(entries))
        semantic = None
        if self.embedder is not None:
            semantic, self.embedded = SemanticIndex.build(entries, self.embedder, self.cache,
                                                          self.progress)
        return _Index(
            entries={entry.id: entry for entry in entries},
            keywords=KeywordIndex.from_entries(entries),
            retriever=retriever,
            menu=Menu(entries, self.settings.menu),
            homophones=HomophoneCorrector(retriever.content_words, retriever.word_frequency),
            semantic=semantic,
        )

    def rebuild(self, entries: Sequence[Entry], synonyms: Iterable[Sequence[str]] = ()) -> None:
        """Take a changed knowledge base: build everything new, then swap one reference."""
        self._index = self._build(entries, synonyms)

    def query_text(self, text: str) -> str:
        """What the model embeds for a message: normalised, homophone typos repaired with the
        KB's own words ("几时发或" -> "几时发货"), as word matching sees it."""
        return self._index.homophones.correct(normalize(text))

    def vector(self, text: str) -> np.ndarray | None:
        """The message's vector, computed here and now (CLI, benches); None without a model.
        The gateway computes it in a worker thread instead (`QueryEncoder`)."""
        if self.embedder is None or self._index.semantic is None:
            return None
        query = self.query_text(text)
        known = self.known_vector(query)
        return known if known is not None else self.embedder.embed([query])[0]

    def known_vector(self, query_text: str) -> np.ndarray | None:
        """The vector of a message (`query_text`) worded as one of the entries' texts: the entry's
        own, computed when the KB was indexed; None for any other wording (the model's to embed)."""
        semantic = self._index.semantic
        return semantic.known_vector(query_text) if semantic is not None else None

    @property
    def semantic_ready(self) -> bool:
        return self._index.semantic is not None

    @property
    def entries(self) -> Mapping[str, Entry]:
        return self._index.entries

    def suggestions(self, channel: str | None = None, limit: int = 4) -> list[str]:
        """Questions to offer a customer on `channel` who has not asked yet (see `Menu.suggestions`)."""
        return self._index.menu.suggestions(channel, limit)

    def match(self, text: str, channel: str | None = None,
              bot_state: Mapping[str, Any] | None = None, language: str | None = None,
              vector: np.ndarray | None = None) -> MatchResult:
        """Decide how to answer `text` asked from `channel` (`plugin/account`, or a bare plugin;
        entries scoped elsewhere never answer nor show); `bot_state` is the conversation's bot
        memory, `vector` the message's embedding (without one, words alone decide)."""
        index = self._index
        if index.semantic is None:
            vector = None
        state = dict(bot_state or {})
        if state.get(STATE_KEY):  # a menu position or earlier misses: the decision depends on them
            return _Match(self, index, text, channel, state, language, vector).run()
        key = (text, channel, language, vector is not None)
        decided = index.decisions.get(key)
        if decided is None:
            decided = _Match(self, index, text, channel, None, language, vector).run()
            index.decisions.put(key, decided)
        return _in_state(decided, state)

    def needs_meaning(self, text: str, channel: str | None = None,
                      bot_state: Mapping[str, Any] | None = None, language: str | None = None) -> bool:
        """Whether `text` goes as far as retrieval, the one stage that uses the message's vector:
        a menu number, hand-over words, smalltalk or a keyword rule decide without it, so the
        model need not run for them."""
        index = self._index
        if index.semantic is None:
            return False
        if (bot_state or {}).get(STATE_KEY):  # a menu position or misses: decided afresh
            return _Match(self, index, text, channel, bot_state, language).by_words() is None
        key = (text, channel, language)
        needed = index.meaning.get(key)
        if needed is None:
            needed = _Match(self, index, text, channel, None, language).by_words() is None
            index.meaning.put(key, needed)
        return bool(needed)

    def act(self, action: str, channel: str | None = None,
            bot_state: Mapping[str, Any] | None = None, language: str | None = None) -> MatchResult:
        """A menu button's answer, as the numbered menu gives it: `entry:ID` answers the entry,
        `category:NAME` lists the category (`A/B`: a sub-category); an entry or category the
        knowledge base no longer has shows the top of the menu."""
        return _Match(self, self._index, "", channel, bot_state, language).act(action)

    def retrieve(self, text: str, channel: str | None = None,
                 vector: np.ndarray | None = None) -> tuple[list[Candidate], list[dict[str, float]]]:
        """Retrieval's candidates for normalised `text` and each one's signals (unscored)."""
        index = self._index
        retriever = index.retriever
        meaning = index.semantic.scores(vector) if index.semantic is not None and vector is not None \
            else None
        include: list[int] = []
        if meaning is not None:
            wanted = self.settings.semantic_candidates
            spaces = [meaning.general] if meaning.tuned is None else [meaning.general, meaning.tuned]
            for scores in spaces:
                nearest = [int(p) for p in np.argsort(-scores, kind="stable")[: wanted * 2]
                           if retriever.serves(int(p), channel)]
                include += nearest[:wanted]
        ranked = retriever.rank(text, channel, include)
        positions = [retriever.position(candidate.entry_id) or 0 for candidate in ranked]
        return ranked, fusion.signals(text.replace(" ", ""), ranked, meaning, positions)

    def signals(self, text: str, channel: str | None = None, vector: np.ndarray | None = None
                ) -> tuple[list[Candidate], list[dict[str, float]]]:
        """`retrieve` for a raw message, prepared as matching prepares it (calibration, benches)."""
        corrected = self._index.homophones.correct(normalize(text))
        return self.retrieve(corrected, channel, vector if self._index.semantic is not None else None)

    def decide(self, candidates: Sequence[Candidate], rows: Sequence[dict[str, float]],
               semantic: bool) -> Decision:
        model = self.fusion.semantic if semantic else self.fusion.lexical
        return fusion.decide(model, candidates, rows, self.settings.retrieval.max_candidates)

    def nearest(self, text: str, channel: str | None = None, vector: np.ndarray | None = None,
                limit: int = 3) -> list[Candidate]:
        """The entries nearest to a raw message, most probable first, whatever the decision would
        be: what a language model is given to answer from (`csgw_knowledge_search`)."""
        semantic = vector is not None and self._index.semantic is not None
        ranked, rows = self.signals(text, channel, vector)
        model = self.fusion.semantic if semantic else self.fusion.lexical
        return fusion.by_probability(model, ranked, rows)[:limit]


def _in_state(decided: MatchResult, state: dict[str, Any]) -> MatchResult:
    """A remembered decision (made from an empty state) applied to this conversation's state."""
    new_state = {key: value for key, value in state.items() if key != STATE_KEY}
    if STATE_KEY in decided.bot_state:
        new_state[STATE_KEY] = decided.bot_state[STATE_KEY]
    return replace(decided, bot_state=new_state, payload=dict(decided.payload))


class _Match:
    """One message's way through the engine (holds the index it started with)."""

    def __init__(self, engine: ReplyEngine, index: _Index, text: str, channel: str | None,
                 bot_state: Mapping[str, Any] | None, language: str | None,
                 vector: np.ndarray | None = None) -> None:
        self.engine, self.index, self.text, self.channel = engine, index, text, channel
        self.language, self.vector = language, vector
        self.state = dict(bot_state or {})
        self.mine = dict(self.state.get(STATE_KEY) or {})
        self.corrected = ""  # the message as keyword rules and retrieval read it (`by_words`)

    def run(self) -> MatchResult:
        return self.by_words() or self._by_retrieval()

    def by_words(self) -> MatchResult | None:
        """The decision of the stages before retrieval (menu, hand-over words, smalltalk, keyword
        rules), which never use the message's vector; None when retrieval must decide."""
        normalized = normalize(self.text)
        if not normalized:  # only emoji or punctuation: nothing to answer, nothing to change
            return MatchResult(False, "none", bot_state=self.state, reason="empty")
        menu_reply = self.index.menu.handle(normalized, self.mine.get("menu"), self.channel, self.language)
        if menu_reply is not None:
            return self._from_menu(menu_reply)
        reason = self.engine._detector.reason(normalized)
        if reason is not None:
            return self._handover(reason)
        chat = smalltalk.kind_of(normalized)
        if chat is not None:
            return self._smalltalk(chat)
        self.corrected = self.index.homophones.correct(normalized)
        hits = self.index.keywords.match(self.corrected, self.channel)
        if hits:
            return self._from_keywords(hits, self.corrected)
        return None

    def _by_retrieval(self) -> MatchResult:
        ranked, rows = self.engine.retrieve(self.corrected, self.channel, self.vector)
        decision = self.engine.decide(ranked, rows, self.vector is not None)
        return replace(self._from_retrieval(decision.candidates, decision),
                       decision=decision.reason, semantic=self.vector is not None,
                       best=decision.candidates[0] if decision.candidates else None)

    def act(self, action: str) -> MatchResult:
        kind, _, name = action.partition(":")
        menu = self.index.menu
        if kind == "entry" and name in self.index.entries and self.index.entries[name].serves(self.channel):
            return self._from_menu(menu.answer(name, self.channel, self.language))
        path = tuple(part for part in name.split("/") if part) if kind == "category" else ()
        return self._from_menu(menu.show(path, self.channel, self.language))

    def _from_retrieval(self, ranked: Sequence[Candidate], decision: Decision) -> MatchResult:
        if decision.kind == "answer":
            best = ranked[0]
            return self._answer(best.entry_id, "retrieval", best.score, tuple(ranked[1:4]))
        if decision.kind == "clarify":
            misses = int(self.mine.get("misses", 0))
            if decision.reason == "unsure":
                # the bot could not tell what was asked: a guess offered back is still a miss,
                # so a customer the KB cannot serve reaches a person instead of guess after guess
                misses += 1
                if misses >= self.engine.settings.handover_after_misses:
                    return self._no_match(tuple(ranked[:3]))
            return self._clarify([c.entry_id for c in decision.candidates], decision.candidates,
                                 misses)
        return self._no_match(tuple(ranked[:3]))

    # ----- outcomes -----

    def _new_state(self, menu_state: dict[str, Any] | None, misses: int = 0) -> dict[str, Any]:
        state = dict(self.state)
        mine = {key: value for key, value in (("menu", menu_state), ("misses", misses)) if value}
        if mine:
            state[STATE_KEY] = mine
        else:
            state.pop(STATE_KEY, None)
        return state

    def _payload(self, entry: Entry | None, menu_reply: MenuReply | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = dict(menu_reply.payload()) if menu_reply else {}
        if entry is not None:
            if entry.links:
                payload["links"] = [link.model_dump() for link in entry.links]
            if entry.images:
                payload["images"] = list(entry.images)
        return payload

    def _answer(self, entry_id: str, source: str, score: float,
                runners_up: tuple[Candidate, ...]) -> MatchResult:
        entry = self.index.entries[entry_id]
        answer = entry.answer_for(self.channel)
        return MatchResult(True, source, entry_id, answer, score, runners_up, text=answer,
                           payload=self._payload(entry), bot_state=self._new_state(None),
                           group=entry.category, category=entry.category)

    def _from_keywords(self, hits: list[KeywordHit], text: str) -> MatchResult:
        top = hits[0]
        ties = [hit for hit in hits if hit.priority == top.priority]
        as_candidates = tuple(
            Candidate(hit.entry_id, 1.0, " ".join(hit.matched)) for hit in hits[:4])
        if len(ties) > 1:
            # rules of two entries hold at the same priority: the message names both (or the
            # words are ambiguous); priority is how an operator says which one wins
            return self._clarify([hit.entry_id for hit in ties], as_candidates[: len(ties)])
        support = keyword_support.check(top, text, self.index.retriever, self.channel)
        if support.kind == "clarify" and support.decision is not None:
            candidates = support.decision.candidates
            return self._clarify([c.entry_id for c in candidates], candidates)
        if support.kind == "retrieval" and support.decision is not None:
            return self._from_retrieval(support.ranked, support.decision)
        return self._answer(top.entry_id, "keyword", 1.0, as_candidates[1:])

    def _clarify(self, entry_ids: list[str], candidates: tuple[Candidate, ...],
                 misses: int | None = None) -> MatchResult:
        menu = self.index.menu
        reply = menu.clarify(entry_ids[: self.engine.settings.retrieval.max_candidates],
                             self.channel, self.language)
        best = candidates[0] if candidates else None
        misses = self.mine.get("misses", 0) if misses is None else misses
        offered = self.index.entries.get(entry_ids[0]) if entry_ids else None
        return MatchResult(False, "clarify", None, None, best.score if best else None, candidates,
                           text=reply.text, payload=reply.payload(),
                           bot_state=self._new_state(reply.state, misses), reason="ambiguous",
                           category=offered.category if offered else None)

    def _from_menu(self, reply: MenuReply) -> MatchResult:
        if reply.handover:
            return self._handover("person")
        group = "/".join(reply.path) or None
        if reply.kind == "answer" and reply.entry_id is not None:
            entry = self.index.entries[reply.entry_id]
            return MatchResult(True, "menu", entry.id, entry.answer_for(self.channel), 1.0,
                               text=reply.text, payload=self._payload(entry, reply),
                               bot_state=self._new_state(reply.state), group=entry.category,
                               category=entry.category)
        return MatchResult(False, "menu", text=reply.text, payload=reply.payload(),
                           bot_state=self._new_state(reply.state, self.mine.get("misses", 0)),
                           reason=reply.kind, group=group)

    def _handover(self, reason: str, prefix: str | None = None,
                  candidates: tuple[Candidate, ...] = ()) -> MatchResult:
        text = self.index.menu.handover(self.language).text
        if prefix:
            text = f"{prefix}{text}"
        group = self._nearest_category(candidates)  # a hint for routing
        return MatchResult(False, "handover", score=candidates[0].score if candidates else None,
                           candidates=candidates, text=text, payload={"handover": reason},
                           bot_state=self._new_state(None), handover=True, reason=reason, group=group)

    def _smalltalk(self, kind: str) -> MatchResult:
        misses = self.mine.get("misses", 0)
        if kind == "greeting":
            greeting = self.engine.settings.menu.text("greeting", self.language)
            reply = self.index.menu.show((), self.channel, self.language, prefix=greeting)
            return MatchResult(False, "smalltalk", text=reply.text, payload=reply.payload(),
                               bot_state=self._new_state(reply.state, misses), reason=kind)
        text = self.engine.settings.menu.text("thanks", self.language) if kind == "thanks" else None
        # an acknowledgement ("好的") needs no reply, and leaves the menu where it was
        return MatchResult(False, "smalltalk", text=text, bot_state=self.state, reason=kind)

    def _no_match(self, candidates: tuple[Candidate, ...]) -> MatchResult:
        settings = self.engine.settings
        misses = int(self.mine.get("misses", 0)) + 1
        fallback = settings.menu.text("fallback", self.language)
        menu = self.index.menu
        if settings.no_match == "handover" or misses >= settings.handover_after_misses or menu.empty:
            result = self._handover("no_match", prefix=fallback, candidates=candidates)
            return MatchResult(False, "none", score=result.score, candidates=candidates,
                               text=result.text, payload=result.payload, bot_state=result.bot_state,
                               handover=True, reason="no_match", group=result.group,
                               nearest_category=result.group)
        reply = menu.show((), self.channel, self.language, prefix=fallback)
        return MatchResult(False, "none", score=candidates[0].score if candidates else None,
                           candidates=candidates, text=reply.text, payload=reply.payload(),
                           bot_state=self._new_state(reply.state, misses), reason="no_match",
                           nearest_category=self._nearest_category(candidates))

    def _nearest_category(self, candidates: tuple[Candidate, ...]) -> str | None:
        """The category of the entry a message came closest to."""
        entry = self.index.entries.get(candidates[0].entry_id) if candidates else None
        return entry.category if entry else None

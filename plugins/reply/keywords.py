"""Keyword rules compiled into one Aho-Corasick automaton over normalised text.

A `KeywordIndex` is immutable: a changed knowledge base builds a new one, and whoever holds
the old one swaps a single reference, so a message is never matched against half a rebuild.
One pass of the automaton finds every rule word in the message; only rules anchored on a
found word are then checked, so the cost follows the message, not the number of rules.
A word found only inside a longer rule word names that longer word ("运费" in "运费险"),
so it counts only for rules that also hold the longer word.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

from .kb import Entry, KeywordRule
from .normalize import normalize
from .scopes import serves


@dataclass(frozen=True, slots=True)
class KeywordHit:
    """A rule that holds for a message."""

    entry_id: str
    rule_index: int  # position of the rule in its entry's `keywords`
    priority: int
    matched: tuple[str, ...]  # the rule's words found in the message
    specificity: int  # characters of matched words: longer, more specific rules rank first


@dataclass(frozen=True, slots=True)
class _Rule:
    entry_id: str
    rule_index: int
    priority: int
    order: int  # position among all rules, the last tie-breaker
    all_groups: tuple[frozenset[int], ...]
    any_words: frozenset[int]
    none_words: frozenset[int]
    channels: frozenset[str] | None
    words: frozenset[int]  # every `any` and `all` word: what a shadowing word must be among


@dataclass(frozen=True, slots=True)
class RuleSource:
    """One rule as the index is built from it (an entry's rule, or a synthetic one)."""

    entry_id: str
    rule_index: int
    rule: KeywordRule
    priority: int
    channels: Sequence[str] | None = None


def rules_of(entries: Iterable[Entry]) -> list[RuleSource]:
    """Every keyword rule of `entries`, with its effective priority and channels."""
    return [
        RuleSource(entry.id, index, rule,
                   rule.priority if rule.priority is not None else entry.priority, entry.channels)
        for entry in entries
        for index, rule in enumerate(entry.keywords)
    ]


class KeywordIndex:
    """Compiled keyword rules; `match` lists the rules that hold, best first."""

    def __init__(self, sources: Iterable[RuleSource]) -> None:
        self._word_ids: dict[str, int] = {}
        self._words: list[str] = []
        rules: list[_Rule] = []
        anchors: dict[int, list[int]] = {}
        for order, source in enumerate(sources):
            rule = self._compile(source, order)
            if rule is None:
                continue
            rules.append(rule)
            # every `all` group is necessary, so one group (the rarest-looking: fewest
            # alternatives) is enough to find the rule; without `all`, each `any` word is
            anchor = min(rule.all_groups, key=len) if rule.all_groups else rule.any_words
            for word_id in anchor:
                anchors.setdefault(word_id, []).append(len(rules) - 1)
        self._rules = tuple(rules)
        self._anchors = {word_id: tuple(ids) for word_id, ids in anchors.items()}
        self._automaton = ahocorasick.Automaton()
        for word, word_id in self._word_ids.items():
            self._automaton.add_word(word, word_id)
        if self._words:
            self._automaton.make_automaton()

    @classmethod
    def from_entries(cls, entries: Iterable[Entry]) -> KeywordIndex:
        return cls(rules_of(entries))

    def __len__(self) -> int:
        return len(self._rules)

    def _word(self, word: str) -> int | None:
        key = normalize(word)
        if not key:
            return None
        word_id = self._word_ids.get(key)
        if word_id is None:
            word_id = self._word_ids[key] = len(self._words)
            self._words.append(key)
        return word_id

    def _ids(self, words: Iterable[str]) -> frozenset[int]:
        return frozenset(word_id for word in words if (word_id := self._word(word)) is not None)

    def _compile(self, source: RuleSource, order: int) -> _Rule | None:
        rule = source.rule
        groups = tuple(group for group in (self._ids(g) for g in rule.all_groups()) if group)
        any_words = self._ids(rule.any)
        if not groups and not any_words:
            return None
        return _Rule(
            entry_id=source.entry_id,
            rule_index=source.rule_index,
            priority=source.priority,
            order=order,
            all_groups=groups,
            any_words=any_words,
            none_words=self._ids(rule.none),
            channels=frozenset(source.channels) if source.channels else None,
            words=any_words.union(*groups),
        )

    def found_words(self, normalized: str) -> set[int]:
        if not self._words or not normalized:
            return set()
        return {word_id for _end, word_id in self._automaton.iter(normalized)}

    def _found(self, normalized: str) -> tuple[set[int], dict[int, list[frozenset[int]]]]:
        """Found word ids, and for words found only inside longer found words, the longer
        words around each occurrence."""
        if not self._words or not normalized:
            return set(), {}
        spans = [(end - len(self._words[word_id]) + 1, end, word_id)
                 for end, word_id in self._automaton.iter(normalized)]
        found = {word_id for _start, _end, word_id in spans}
        around: dict[int, list[frozenset[int]]] = {}
        free: set[int] = set()
        for start, end, word_id in spans:
            longer = frozenset(other for o_start, o_end, other in spans
                               if o_start <= start and end <= o_end and o_end - o_start > end - start)
            if longer:
                around.setdefault(word_id, []).append(longer)
            else:
                free.add(word_id)
        return found, {word_id: covers for word_id, covers in around.items() if word_id not in free}

    def match(self, normalized: str, channel: str | None = None) -> list[KeywordHit]:
        """Rules that hold for already-normalised text, best first, at most one per entry."""
        seen, shadowed = self._found(normalized)
        if not seen:
            return []
        candidates: set[int] = set()
        for word_id in seen:
            candidates.update(self._anchors.get(word_id, ()))
        best: dict[str, tuple[tuple[int, int, int], KeywordHit]] = {}
        for position in candidates:
            rule = self._rules[position]
            if not serves(rule.channels, channel):
                continue
            # a `none` word vetoes wherever it appears, even inside a longer word
            if rule.none_words and not rule.none_words.isdisjoint(seen):
                continue
            found = seen.difference(
                word_id for word_id, covers in shadowed.items()
                if not any(cover <= rule.words for cover in covers)) if shadowed else seen
            if rule.any_words and rule.any_words.isdisjoint(found):
                continue
            if not all(not group.isdisjoint(found) for group in rule.all_groups):
                continue
            matched = sorted({self._words[w] for w in found
                              if w in rule.any_words or any(w in g for g in rule.all_groups)})
            specificity = sum(len(word) for word in matched)
            key = (-rule.priority, -specificity, rule.order)
            held = best.get(rule.entry_id)
            if held is None or key < held[0]:
                best[rule.entry_id] = (key, KeywordHit(rule.entry_id, rule.rule_index, rule.priority,
                                                       tuple(matched), specificity))
        return [hit for _key, hit in sorted(best.values(), key=lambda item: item[0])]

    def match_text(self, text: str, channel: str | None = None) -> list[KeywordHit]:
        """`match` for raw text: normalises it first."""
        return self.match(normalize(text), channel)

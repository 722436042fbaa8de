"""Homophone typos: a word that sounds like a knowledge-base word is read as that word (发或 -> 发货).

Pinyin input methods put the wrong character of the right sound in front of customers, who send
it. Every knowledge-base word is keyed by its tone-less pinyin, with the sounds many speakers
merge folded together (zh/z, ch/c, sh/s, n/l, -ng/-n). A stretch of the message is replaced only
when it sounds like a KB word, shares a character with it, and is not itself a commoner word —
so real words ("重庆", "还没") stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from importlib.metadata import version
from typing import Any

from . import data_cache

MAX_WORD = 4  # longest KB word looked for; longer ones are rarely mistyped by sound alone
_FOLDS = (("zh", "z"), ("ch", "c"), ("sh", "s"))


@cache
def _syllables() -> dict[str, str]:
    """Each character's tone-less pinyin as pypinyin reads it alone (一 to 鿿), from the cache."""
    return data_cache.cached("pinyin", f"pypinyin:{version('pypinyin')}", _read_syllables, _complete)


def _read_syllables() -> dict[str, str]:
    from pypinyin import lazy_pinyin  # only to build the cache: its import alone takes 0.2 s

    return {chr(code): lazy_pinyin(chr(code))[0] for code in range(0x4E00, 0xA000)}


def _complete(table: Any) -> bool:
    return isinstance(table, dict) and len(table) == 0xA000 - 0x4E00


@lru_cache(maxsize=65536)
def sound(char: str) -> str:
    """The folded, tone-less pinyin of one character (the character itself if it has none)."""
    if not "\u4e00" <= char <= "\u9fff":
        return char
    syllable = _syllables()[char]
    for long, short in _FOLDS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long):]
            break
    if syllable.startswith("n") and not syllable.startswith("ng"):
        syllable = "l" + syllable[1:]
    if syllable.endswith("ng") and len(syllable) > 2:
        syllable = syllable[:-1]
    return syllable


def sound_key(word: str) -> tuple[str, ...]:
    return tuple(sound(char) for char in word)


def _chinese(word: str) -> bool:
    return all("\u4e00" <= char <= "\u9fff" for char in word)


class HomophoneCorrector:
    """Rewrites sound-alike stretches of a normalised message into the KB's own words."""

    def __init__(self, words: Iterable[str], frequency: Callable[[str, int], int]) -> None:
        self._frequency = frequency
        self._known = {word for word in words if 2 <= len(word) <= MAX_WORD and _chinese(word)}
        by_sound: dict[tuple[str, ...], list[str]] = {}
        for word in sorted(self._known):
            by_sound.setdefault(sound_key(word), []).append(word)
        # a sound two KB words share is no evidence for either: leave those stretches alone
        self._by_sound = {key: words[0] for key, words in by_sound.items() if len(words) == 1}
        self._lengths = sorted({len(key) for key in self._by_sound}, reverse=True)

    def correct(self, text: str) -> str:
        """`text` with each sound-alike stretch replaced, longest KB words first."""
        if not self._by_sound:
            return text
        sounds = [sound(char) for char in text]
        out: list[str] = []
        start = 0
        while start < len(text):
            replacement = self._word_at(text, sounds, start)
            if replacement is None:
                out.append(text[start])
                start += 1
            else:
                out.append(replacement)
                start += len(replacement)
        return "".join(out)

    def _word_at(self, text: str, sounds: list[str], start: int) -> str | None:
        for length in self._lengths:
            stretch = text[start:start + length]
            if len(stretch) < length:
                continue
            word = self._by_sound.get(tuple(sounds[start:start + length]))
            if word is None:
                continue
            if stretch == word:
                return word  # already right: keep it whole, so a shorter word cannot cut into it
            if self._plausible_typo(stretch, word):
                return word
        return None

    def _plausible_typo(self, stretch: str, word: str) -> bool:
        if not any(a == b for a, b in zip(stretch, word, strict=True)):
            return False  # all characters differ: more likely another word than a typo
        if stretch in self._known:
            return False
        # jieba's frequencies: a real word at least a twentieth as common as the KB word is
        # more likely meant as typed
        return self._frequency(stretch, 0) * 20 < self._frequency(word, 1)

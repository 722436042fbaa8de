"""jieba's word dictionary, kept in the data directory's cache (`data_cache`) in shards by first
character, and given to each tokenizer a first character at a time (`Words`).

jieba looks up only stretches of the text it cuts (and of a word it adds), so a tokenizer whose
dictionary holds every entry starting with each character of that text cuts it exactly as with the
whole dictionary. Unmarshalling the whole of it (500,000 words and prefixes) cost 0.25-0.45 s of
every `csgw kb test` and gateway start; the shards of one message's characters take well under a
millisecond, and a gateway's tokenizer fills up as its customers write."""

from __future__ import annotations

import marshal
import threading
from pathlib import Path
from typing import Any

import jieba

from . import data_cache

Shards = tuple[dict[str, bytes], int]  # first character -> marshalled {word or prefix: count}; total

_lock = threading.Lock()
_loaded: Shards | None = None


def shards() -> Shards:
    """jieba's dictionary by first character, shared by every `Words`."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = data_cache.cached("jieba-shards", version(), _build, _valid)
            data_cache.forget("jieba")  # the whole dictionary in one table, as kept before the shards
        return _loaded


def version() -> str:
    """Which dictionary `shards` gives: jieba's version and its dictionary file."""
    source = (Path(jieba.__file__).parent / "dict.txt").stat()
    return f"{jieba.__version__}:{source.st_size}:{int(source.st_mtime)}"


def whole() -> tuple[dict[str, int], int]:
    """jieba's own dictionary, read from its file: each word and every prefix of one (at 0)."""
    tokenizer = jieba.Tokenizer()
    with tokenizer.get_dict_file() as source:
        freq, total = tokenizer.gen_pfdict(source)
    return freq, total


def _build() -> Shards:
    freq, total = whole()
    by_first: dict[str, dict[str, int]] = {}
    for word, count in freq.items():
        by_first.setdefault(word[0], {})[word] = count
    return {first: marshal.dumps(words) for first, words in by_first.items()}, total


def _valid(table: Any) -> bool:
    return (isinstance(table, tuple) and len(table) == 2 and isinstance(table[0], dict)
            and bool(table[0]) and isinstance(table[1], int))


class Words:
    """One tokenizer's dictionary (`freq`, `total`, as jieba keeps them), filled with the entries
    of a first character when a text with that character is to be cut or looked up (`cover`).

    Every entry of a character comes in at once, before any word starting with it is added, so a
    word added to the tokenizer is never overwritten by jieba's own count of it, and a lookup of a
    covered stretch answers as the whole dictionary would. Covering is safe beside cuts in other
    threads: entries go in before their character is marked covered."""

    def __init__(self) -> None:
        self._shards, self.total = shards()
        self.freq: dict[str, int] = {}
        self._covered: set[str] = set()
        self._lock = threading.Lock()

    def cover(self, text: str) -> None:
        covered = self._covered
        missing = [char for char in set(text) if char not in covered]
        if not missing:
            return
        with self._lock:
            for char in missing:
                if char not in covered:
                    packed = self._shards.get(char)
                    if packed is not None:
                        self.freq.update(marshal.loads(packed))
                    covered.add(char)

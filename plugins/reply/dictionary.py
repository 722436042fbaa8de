"""jieba's word dictionary, loaded once per process through the data directory's cache
(`data_cache`): every retrieval index starts from a copy of it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import jieba

from . import data_cache

Frequencies = tuple[dict[str, int], int]  # word (and every prefix of one, at 0) -> count; total

_lock = threading.Lock()
_loaded: Frequencies | None = None


def frequencies() -> Frequencies:
    """jieba's dictionary, shared: copy it before adding words."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = data_cache.cached("jieba", version(), _build, _valid)
        return _loaded


def version() -> str:
    """Which dictionary `frequencies` gives: jieba's version and its dictionary file."""
    source = (Path(jieba.__file__).parent / "dict.txt").stat()
    return f"{jieba.__version__}:{source.st_size}:{int(source.st_mtime)}"


def _build() -> Frequencies:
    tokenizer = jieba.Tokenizer()
    with tokenizer.get_dict_file() as source:
        freq, total = tokenizer.gen_pfdict(source)
    return freq, total


def _valid(table: Any) -> bool:
    return (isinstance(table, tuple) and len(table) == 2 and isinstance(table[0], dict)
            and bool(table[0]) and isinstance(table[1], int))

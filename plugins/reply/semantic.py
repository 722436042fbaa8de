"""Semantic similarity of a message to every entry: its vector against the entries' vectors.

An entry's score is its best cosine over its question and paraphrases. One matrix product for
the whole KB: a 1,000-entry KB costs well under a millisecond once the message is embedded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .adapter import adapt, adapter_for
from .embeddings import Embedder, Progress, VectorCache, embed_texts, embedding_text
from .kb import Entry


@dataclass(frozen=True, slots=True)
class Meaning:
    """A message's cosine with every entry (entries' order): in the model's own space, and in
    the adapter's space tuned on customer-service questions (None without an adapter)."""

    general: np.ndarray
    tuned: np.ndarray | None


class SemanticIndex:
    """Entry vectors (rows grouped by entry, in the entries' order) and the model that made them."""

    def __init__(self, model: str, entry_ids: Sequence[str], vectors: np.ndarray,
                 owners: np.ndarray, texts: Sequence[str] = ()) -> None:
        self.entry_ids = list(entry_ids)
        # a message worded as one of the entries' texts has that text's vector: both sides are
        # embedded alike (`embedding_text`, e5's "query: "), so the model need not run for it
        self._row_of = {embedding_text(text): row for row, text in enumerate(texts)}
        self._adapter = adapter_for(model)
        self._vectors = vectors
        self._tuned = adapt(vectors, self._adapter) if self._adapter is not None else None
        # owners maps row -> entry position; rows are contiguous per entry, so each entry's first
        # row is found once and a max per segment is one call
        self._starts = np.searchsorted(owners, np.arange(len(self.entry_ids)))

    @classmethod
    def build(cls, entries: Sequence[Entry], embedder: Embedder, cache: VectorCache | None = None,
              progress: Progress | None = None) -> tuple[SemanticIndex, int]:
        """The index and how many texts were embedded now (the others came from the cache)."""
        texts: list[str] = []
        owners: list[int] = []
        for position, entry in enumerate(entries):
            for text in entry.texts():
                texts.append(text)
                owners.append(position)
        vectors, computed = embed_texts(texts, embedder, cache, progress=progress)
        index = cls(embedder.name, [entry.id for entry in entries], vectors,
                    np.asarray(owners, dtype=np.int64), texts)
        return index, computed

    def __len__(self) -> int:
        return len(self.entry_ids)

    def known_vector(self, text: str) -> np.ndarray | None:
        """The vector of an entry's question or paraphrase that `text` is, as the model sees them."""
        row = self._row_of.get(embedding_text(text))
        return self._vectors[row] if row is not None else None

    def scores(self, vector: np.ndarray) -> Meaning:
        """Each entry's best cosine with the message, over its question and paraphrases."""
        message = np.asarray(vector, dtype=np.float32).reshape(-1)
        if not self.entry_ids:
            return Meaning(np.zeros(0, dtype=np.float32), None)
        general = np.maximum.reduceat(self._vectors @ message, self._starts)
        tuned = None
        if self._tuned is not None:
            tuned = np.maximum.reduceat(self._tuned @ adapt(message, self._adapter), self._starts)
        return Meaning(general, tuned)

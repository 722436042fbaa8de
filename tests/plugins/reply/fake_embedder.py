"""Embedders for tests: deterministic vectors from characters, optionally slow, counting calls."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from csgw.plugins.reply.embeddings import embedding_text


class CharEmbedder:
    """A bag-of-characters vector (hashed into 64 dimensions): texts sharing characters are near."""

    name = "fake-chars"
    dim = 64

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.calls = 0
        self.texts = 0
        self.gate = gate  # when set, embed() waits for it: a model stuck on a slow core

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.gate is not None:
            self.gate.wait(30)
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for char in embedding_text(text):
                out[row, hash(char) % self.dim] += 1.0
            out[row] /= np.linalg.norm(out[row]) or 1.0
        return out

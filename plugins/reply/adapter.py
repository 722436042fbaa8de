"""A linear adapter on the e5 vectors, trained on public customer-service question pairs.

multilingual-e5-small was not trained on shop and payment questions. `bench/train_adapter.py`
fits one 384x384 matrix on human-labelled pairs (AFQMC's train split and LCQMC's dev split,
their calibration halves only): questions labelled "the same" are pulled together, others pushed
apart (contrastive loss, kept near the identity). Vectors are stored unadapted, so a retrained
adapter needs no re-embedding; the adapter is applied when an index is built and to each message.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

ADAPTERS = {"e5-small-q4": Path(__file__).with_name("e5_adapter.npy")}


@lru_cache(maxsize=4)
def adapter_for(model: str) -> np.ndarray | None:
    """The adapter matrix for `model`'s vectors, or None (vectors are used as they are)."""
    path = ADAPTERS.get(model)
    if path is None or not path.exists():
        return None
    return np.load(path).astype(np.float32)


def adapt(vectors: np.ndarray, matrix: np.ndarray | None) -> np.ndarray:
    """Rows mapped through the adapter and scaled back to unit length."""
    if matrix is None:
        return vectors
    mapped = np.asarray(vectors, dtype=np.float32) @ matrix.T
    norms = np.linalg.norm(mapped, axis=-1, keepdims=True)
    return mapped / np.where(norms == 0, 1.0, norms)

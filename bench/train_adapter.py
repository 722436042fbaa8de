"""Train the e5 adapter (plugins/reply/e5_adapter.npy) on public, human-labelled question pairs.

Data: the first halves (bench/corpora.py `halves`) of AFQMC's train split and LCQMC's dev split;
the second halves are left for calibrating the decision layer, and the held-out splits (AFQMC dev,
LCQMC test) are never read. Loss: InfoNCE over a batch of "same question" pairs, each message
against every other pair's question and a few "not the same" pairs (the corpora's hard
negatives), plus a pull towards the identity so the adapter only bends the model. Adam, 8 epochs,
a fixed seed: the same files give the same matrix. Prints pair AUC on the second halves.

    python -m bench.train_adapter --afqmc DIR --lcqmc DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from bench.corpora import Pair, halves, read_pairs
from csgw.plugins.reply.adapter import ADAPTERS
from csgw.plugins.reply.embeddings import E5Embedder, VectorCache, embed_texts

TEMPERATURE = 0.05
LEARNING_RATE = 1e-3
PULL = float(os.environ.get("ADAPTER_PULL", 1e-2))  # towards the identity
EPOCHS = int(os.environ.get("ADAPTER_EPOCHS", 8))
BATCH = 256


def vectors_of(pairs: list[Pair], embedder: E5Embedder, cache: VectorCache) -> tuple[np.ndarray, ...]:
    texts = list(dict.fromkeys(text for pair in pairs for text in pair[:2]))
    matrix, _ = embed_texts(texts, embedder, cache, batch=64,
                            progress=lambda done, total: sys.stderr.write(f"\rembedding {done}/{total}"))
    row = {text: number for number, text in enumerate(texts)}
    first = matrix[[row[a] for a, _, _ in pairs]]
    second = matrix[[row[b] for _, b, _ in pairs]]
    labels = np.array([label for _, _, label in pairs])
    return first, second, labels


def _unit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / norms, norms


def train(first: np.ndarray, second: np.ndarray, labels: np.ndarray, seed: int = 0) -> np.ndarray:
    dim = first.shape[1]
    same_a, same_b = first[labels == 1], second[labels == 1]
    other_a, other_b = first[labels == 0], second[labels == 0]
    weights = np.eye(dim)
    moment, square = np.zeros_like(weights), np.zeros_like(weights)
    rng = np.random.default_rng(seed)
    step = 0
    for _ in range(EPOCHS):
        order = rng.permutation(len(same_a))
        for start in range(0, len(order) - BATCH + 1, BATCH):
            batch = order[start:start + BATCH]
            hard = rng.integers(0, len(other_a), BATCH)
            asked = same_a[batch]
            targets = np.vstack([same_b[batch], other_a[hard], other_b[hard]])
            u, u_norm = _unit(asked @ weights.T)
            v, v_norm = _unit(targets @ weights.T)
            logits = u @ v.T / TEMPERATURE
            logits -= logits.max(axis=1, keepdims=True)
            probabilities = np.exp(logits)
            probabilities /= probabilities.sum(axis=1, keepdims=True)
            probabilities[np.arange(BATCH), np.arange(BATCH)] -= 1.0
            gradient_logits = probabilities / (BATCH * TEMPERATURE)
            du, dv = gradient_logits @ v, gradient_logits.T @ u
            du = (du - (du * u).sum(axis=1, keepdims=True) * u) / u_norm
            dv = (dv - (dv * v).sum(axis=1, keepdims=True) * v) / v_norm
            gradient = du.T @ asked + dv.T @ targets + PULL * (weights - np.eye(dim))
            step += 1
            moment = 0.9 * moment + 0.1 * gradient
            square = 0.999 * square + 0.001 * gradient ** 2
            weights -= LEARNING_RATE * (moment / (1 - 0.9 ** step)) / (
                np.sqrt(square / (1 - 0.999 ** step)) + 1e-8)
    return weights.astype(np.float32)


def pair_auc(first: np.ndarray, second: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    scores = (_unit(first @ weights.T)[0] * _unit(second @ weights.T)[0]).sum(axis=1)
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores)] = np.arange(len(scores))
    positive = labels == 1
    count = positive.sum()
    return float((ranks[positive].sum() - count * (count - 1) / 2) / (count * (~positive).sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--afqmc", type=Path, required=True)
    parser.add_argument("--lcqmc", type=Path, required=True)
    parser.add_argument("--cache", type=Path, default=Path(".cache/bench-vectors.sqlite"))
    parser.add_argument("--out", type=Path, default=ADAPTERS["e5-small-q4"])
    args = parser.parse_args()
    embedder, cache = E5Embedder(), VectorCache(args.cache)
    afqmc_fit, afqmc_check = halves(read_pairs(args.afqmc / "train.csv"))
    lcqmc_fit, lcqmc_check = halves(read_pairs(args.lcqmc / "dev.tsv"))
    weights = train(*vectors_of(afqmc_fit + lcqmc_fit, embedder, cache))
    np.save(args.out, weights.astype(np.float16))
    report = {"adapter": str(args.out), "pairs": len(afqmc_fit) + len(lcqmc_fit)}
    for name, pairs in (("afqmc", afqmc_check), ("lcqmc", lcqmc_check)):
        check = vectors_of(pairs, embedder, cache)
        report[name] = {"pair_auc_before": round(pair_auc(*check, np.eye(384, dtype=np.float32)), 4),
                        "pair_auc_after": round(pair_auc(*check, weights), 4)}
    sys.stderr.write("\n")
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()

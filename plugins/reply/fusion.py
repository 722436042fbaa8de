"""The decision layer: every signal about a candidate entry fused into one calibrated probability.

For each candidate (the best few by words and by meaning) the signals are: semantic similarity
and its lead over the other entries, the lexical score and its lead, character similarity, how
much of the message the entry covers, whether an entry text holds the whole message, opposite
verbs, a negation on one side only, and the message's length. A logistic model, fitted on public
human-labelled question pairs (`bench/calibrate.py`, AFQMC's train split; its dev split is never
used to tune), turns them into P(this entry is the one asked about). The engine answers a
confident and clear winner, asks back with the top two or three when the right one is probably
among them, and otherwise answers nothing.

Without a message vector (no model installed, or the model busy) the lexical model decides: the
same signals less the semantic ones, fitted the same way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import contrast
from .retrieval import Candidate, Decision
from .semantic import Meaning

SEMANTIC_FEATURES = ("semantic", "semantic_lead", "semantic_spread", "semantic_z", "semantic_top",
                     "tuned", "tuned_lead", "tuned_spread", "tuned_z", "tuned_top")
LEXICAL_FEATURES = ("lexical", "lexical_lead", "lexical_top", "similarity", "coverage", "covered",
                    "unmatched", "contains", "opposite", "negation", "length")
FEATURES = ("bias", *SEMANTIC_FEATURES, *LEXICAL_FEATURES)
SPREAD_OF = 10  # the semantic spread compares with the mean of this many best entries
WEIGHTS_FILE = Path(__file__).with_name("fusion_weights.json")


@dataclass(frozen=True)
class Thresholds:
    answer: float  # P(best) at or above, with `margin` over the runner-up: answer
    margin: float
    clarify: float  # P(best) at or above, below answering: ask back
    offer: float  # a candidate offered in a clarification has at least this P


@dataclass(frozen=True)
class LogisticModel:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    thresholds: Thresholds

    def probability(self, signals: dict[str, float]) -> float:
        z = sum(weight * signals.get(name, 0.0) for name, weight in zip(self.features, self.weights,
                                                                       strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class FusionModel:
    semantic: LogisticModel
    lexical: LogisticModel
    source: str = ""

    @classmethod
    def from_json(cls, data: dict) -> FusionModel:
        def model(part: dict) -> LogisticModel:
            return LogisticModel(tuple(part["features"]), tuple(float(w) for w in part["weights"]),
                                 Thresholds(**part["thresholds"]))

        return cls(model(data["semantic"]), model(data["lexical"]), str(data.get("source", "")))


@lru_cache(maxsize=1)
def default_model() -> FusionModel:
    return FusionModel.from_json(json.loads(WEIGHTS_FILE.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class _Space:
    """One vector space's scores for a message, summarised once for all its candidates."""

    scores: np.ndarray
    best: int
    first: float
    second: float
    top_mean: float
    mean: float
    deviation: float

    @classmethod
    def of(cls, scores: np.ndarray) -> _Space:
        count = len(scores)
        top = np.partition(scores, count - min(SPREAD_OF, count))[-SPREAD_OF:]
        best = int(np.argmax(scores))
        second = float(np.partition(scores, count - 2)[count - 2]) if count > 1 else float(scores[best])
        return cls(scores, best, float(scores[best]), second, float(top.mean()), float(scores.mean()),
                   float(scores.std()) if count >= 5 else 0.0)

    def view(self, prefix: str, position: int) -> dict[str, float]:
        """A candidate's cosine, its lead over every other entry, its distance above the best
        few and above the KB's mean (in the KB's standard deviations)."""
        own = float(self.scores[position])
        if len(self.scores) < 2:
            return {prefix: own, f"{prefix}_lead": 0.0, f"{prefix}_spread": 0.0,
                    f"{prefix}_z": 0.0, f"{prefix}_top": 1.0}
        lead = own - (self.second if position == self.best else self.first)
        z = (own - self.mean) / self.deviation / 10.0 if self.deviation > 1e-6 else 0.0
        return {prefix: own, f"{prefix}_lead": lead, f"{prefix}_spread": own - self.top_mean,
                f"{prefix}_z": z, f"{prefix}_top": float(lead > 0)}


def signals(message: str, candidates: Sequence[Candidate], meaning: Meaning | None,
            positions: Sequence[int]) -> list[dict[str, float]]:
    """Each candidate's signals; `positions` are the candidates' entry positions in `meaning`."""
    lexical = [candidate.score for candidate in candidates]
    length = min(len(message), 40) / 40.0
    spaces: tuple[_Space, _Space] | None = None
    if meaning is not None and len(meaning.general):
        # a model without an adapter: its own space is the tuned one (the identity adapter)
        general = _Space.of(meaning.general)
        spaces = (general, _Space.of(meaning.tuned) if meaning.tuned is not None else general)
    out = []
    for number, candidate in enumerate(candidates):
        other_lexical = max((score for i, score in enumerate(lexical) if i != number), default=0.0)
        row = {
            "bias": 1.0,
            "lexical": candidate.score,
            "lexical_lead": candidate.score - other_lexical,
            "lexical_top": float(candidate.score > other_lexical),
            "similarity": candidate.similarity,
            "coverage": candidate.coverage,
            "covered": candidate.covered,
            "unmatched": candidate.unmatched,
            "contains": float(candidate.contains_message),
            "opposite": float(contrast.opposite(message, candidate.text)),
            "negation": float(contrast.negation_differs(message, candidate.text)),
            "length": length,
        }
        if spaces is not None:
            row.update(spaces[0].view("semantic", positions[number]))
            row.update(spaces[1].view("tuned", positions[number]))
        out.append(row)
    return out


def by_probability(model: LogisticModel, candidates: Sequence[Candidate],
                   rows: Sequence[dict[str, float]]) -> list[Candidate]:
    """Candidates best first, each scored by its probability, with the signals it was seen with."""
    return sorted((replace(candidate, score=model.probability(row), signals=tuple(row.items()))
                   for candidate, row in zip(candidates, rows, strict=True)),
                  key=lambda candidate: -candidate.score)


def decide(model: LogisticModel, candidates: Sequence[Candidate],
           rows: Sequence[dict[str, float]], max_candidates: int = 3,
           thresholds: Thresholds | None = None) -> Decision:
    """Answer, ask back or give up; candidates come back best first, scored by probability."""
    if not candidates:
        return Decision("none", reason="no_candidates")
    limits = thresholds or model.thresholds
    scored = by_probability(model, candidates, rows)
    best = scored[0]
    runner_up = scored[1].score if len(scored) > 1 else 0.0
    containing = [c for c in scored if c.contains_message]
    if len(containing) > 1 and best.similarity < 1.0:
        # the whole message is part of several entries' questions: it names a topic
        # ("发票", "运费", "退"), not a question, so ask which one
        return Decision("clarify", tuple(containing[:max_candidates]), reason="topic")
    if best.score >= limits.answer and best.score - runner_up >= limits.margin:
        return Decision("answer", tuple(scored[:max_candidates]), reason="confident")
    if best.score >= limits.clarify:
        offered = [c for c in scored if c.score >= limits.offer][:max_candidates]
        reason = "close_call" if best.score >= limits.answer else "unsure"
        return Decision("clarify", tuple(offered), reason=reason)
    return Decision("none", tuple(scored[:max_candidates]), reason="no_match")


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50) -> np.ndarray:
    """Weights of an L2-regularised logistic regression (Newton's method; the bias is column 0
    and is not penalised). Small and deterministic: the calibration sets have a few thousand rows."""
    weights = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ weights, -30, 30)))
        gradient = x.T @ (p - y) + penalty * weights
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return weights

"""Scoring the engine against labelled customer questions: accuracy in scope, false answers out of it.

A case expects an entry id, `none` (out of scope: any answer is a false answer) or `clarify`
(ambiguous: answering is wrong, asking back is right), optionally on one `site` (plugin/account). Used by `bench/bench_accuracy.py` and tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .engine import ReplyEngine

NOT_ANSWERED = ("none", "clarify")


@dataclass
class Score:
    """Tallies of one question set; the lists name the misses so a failure explains itself."""

    in_scope: int = 0
    right: int = 0
    wrong: list[str] = field(default_factory=list)  # answered with another entry
    unanswered: list[str] = field(default_factory=list)  # in scope, but asked back or handed over
    out_of_scope: int = 0
    false_answers: list[str] = field(default_factory=list)
    ambiguous: int = 0
    ambiguous_answered: list[str] = field(default_factory=list)
    ambiguous_asked: int = 0
    offered: int = 0  # in scope, not answered, the right entry among those a clarification offers
    ranked_first: int = 0  # in scope, the right entry ranked first (answered or not)

    @property
    def accuracy(self) -> float:
        return self.right / self.in_scope if self.in_scope else 0.0

    @property
    def within_one(self) -> float:
        """Right directly, or offered in the one clarifying question asked."""
        return (self.right + self.offered) / self.in_scope if self.in_scope else 0.0

    @property
    def wrong_rate(self) -> float:
        return len(self.wrong) / self.in_scope if self.in_scope else 0.0

    @property
    def false_answer_rate(self) -> float:
        return len(self.false_answers) / self.out_of_scope if self.out_of_scope else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "questions": self.in_scope + self.out_of_scope + self.ambiguous,
            "in_scope": self.in_scope,
            "accuracy": round(self.accuracy, 4),
            "wrong_answers": len(self.wrong),
            "wrong_rate": round(self.wrong_rate, 4),
            "within_one_question": round(self.within_one, 4),
            "ranked_first": round(self.ranked_first / self.in_scope, 4) if self.in_scope else 0.0,
            "out_of_scope": self.out_of_scope,
            "false_answer_rate": round(self.false_answer_rate, 4),
            "ambiguous": self.ambiguous,
            "ambiguous_asked_back": self.ambiguous_asked,
            "ambiguous_answered": len(self.ambiguous_answered),
        }


def load_cases(path: Path) -> list[dict[str, Any]]:
    """A YAML list of `{text, expect}` mappings."""
    return list(yaml.safe_load(path.read_text(encoding="utf-8")) or [])


def evaluate(engine: ReplyEngine, cases: Iterable[Mapping[str, Any]]) -> Score:
    """Match every case's text on a fresh conversation and tally the outcome."""
    score = Score()
    for case in cases:
        text, expected = str(case["text"]), str(case["expect"])
        # a case may be asked on one site (`site: webchat/shoes`): what is scoped elsewhere is out of reach
        result = engine.match(text, channel=case.get("site"), vector=engine.vector(text))
        got = f"{text} -> {result.entry_id if result.answered else result.source}"
        if expected == "none":
            score.out_of_scope += 1
            if result.answered:
                score.false_answers.append(got)
        elif expected == "clarify":
            score.ambiguous += 1
            if result.answered:
                score.ambiguous_answered.append(got)
            score.ambiguous_asked += result.source == "clarify"
        else:
            score.in_scope += 1
            first = result.entry_id if result.answered else \
                (result.candidates[0].entry_id if result.candidates else None)
            score.ranked_first += first == expected
            if result.answered and result.entry_id == expected:
                score.right += 1
            elif result.answered:
                score.wrong.append(f"{got}, expected {expected}")
            else:
                score.unanswered.append(f"{got}, expected {expected}")
                score.offered += result.source == "clarify" and any(
                    candidate.entry_id == expected for candidate in result.candidates)
    return score

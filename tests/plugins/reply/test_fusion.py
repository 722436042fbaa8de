"""The decision layer: the logistic fit, the calibrated weights it ships, and the decision rules."""

from __future__ import annotations

import numpy as np

from csgw.plugins.reply import fusion
from csgw.plugins.reply.retrieval import Candidate
from csgw.plugins.reply.semantic import Meaning

THRESHOLDS = fusion.Thresholds(answer=0.7, margin=0.2, clarify=0.3, offer=0.15)
MODEL = fusion.LogisticModel(("bias", "semantic_lead"), (-2.0, 40.0), THRESHOLDS)


def test_fit_recovers_known_weights() -> None:
    rng = np.random.default_rng(3)
    x = np.column_stack([np.ones(20000), rng.normal(size=20000), rng.normal(size=20000)])
    true = np.array([-1.0, 2.5, -0.7])
    y = (rng.random(20000) < 1 / (1 + np.exp(-x @ true))).astype(float)
    weights = fusion.fit_logistic(x, y, l2=0.0)
    assert np.allclose(weights, true, atol=0.1), weights


def test_fit_is_regularised_but_not_its_bias() -> None:
    x = np.column_stack([np.ones(4), [1.0, 1.0, -1.0, -1.0]])
    y = np.array([1.0, 1.0, 0.0, 0.0])  # separable: unpenalised weights would run away
    weights = fusion.fit_logistic(x, y, l2=1.0)
    assert 0 < weights[1] < 10 and abs(weights[0]) < 1e-6


def test_shipped_weights_load_and_name_every_signal() -> None:
    model = fusion.default_model()
    levels = {"semantic", "tuned", "length"}  # not fitted: their levels differ between domains
    assert set(model.semantic.features) == set(fusion.FEATURES) - levels
    assert set(model.lexical.features) == set(fusion.FEATURES) - set(fusion.SEMANTIC_FEATURES) - levels
    assert "afqmc" in model.source.lower() and "lcqmc" in model.source.lower()
    for part in (model.semantic, model.lexical):
        limits = part.thresholds
        assert 0 < limits.offer <= limits.clarify <= limits.answer < 1


def _candidate(entry_id: str, contains: bool = False, similarity: float = 0.5) -> Candidate:
    return Candidate(entry_id, 0.0, f"text {entry_id}", similarity=similarity, contains_message=contains)


def test_a_clear_winner_is_answered_with_its_signals() -> None:
    candidates = [_candidate("a"), _candidate("b")]
    decision = fusion.decide(MODEL, candidates, [{"bias": 1, "semantic_lead": 0.1},
                                                 {"bias": 1, "semantic_lead": -0.1}])
    assert decision.kind == "answer" and decision.reason == "confident"
    assert decision.candidates[0].entry_id == "a" and decision.candidates[0].score > 0.8
    assert dict(decision.candidates[0].signals)["semantic_lead"] == 0.1


def test_two_likely_entries_are_offered_back() -> None:
    candidates = [_candidate("a"), _candidate("b"), _candidate("c")]
    rows = [{"bias": 1, "semantic_lead": 0.08}, {"bias": 1, "semantic_lead": 0.075},
            {"bias": 1, "semantic_lead": -0.5}]
    decision = fusion.decide(MODEL, candidates, rows)
    assert decision.kind == "clarify" and decision.reason == "close_call"
    assert [c.entry_id for c in decision.candidates] == ["a", "b"]  # c is too unlikely to offer


def test_unsure_asks_back_and_hopeless_gives_up() -> None:
    candidates = [_candidate("a")]
    unsure = fusion.decide(MODEL, candidates, [{"bias": 1, "semantic_lead": 0.03}])
    assert unsure.kind == "clarify" and unsure.reason == "unsure"
    hopeless = fusion.decide(MODEL, candidates, [{"bias": 1, "semantic_lead": -0.2}])
    assert hopeless.kind == "none" and hopeless.reason == "no_match"
    assert fusion.decide(MODEL, [], []).kind == "none"


def test_a_bare_topic_word_held_by_several_entries_asks_which() -> None:
    candidates = [_candidate("a", contains=True), _candidate("b", contains=True), _candidate("c")]
    rows = [{"bias": 1, "semantic_lead": 0.01}, {"bias": 1, "semantic_lead": -0.01},
            {"bias": 1, "semantic_lead": -0.2}]
    decision = fusion.decide(MODEL, candidates, rows)
    assert decision.kind == "clarify" and decision.reason == "topic"
    assert [c.entry_id for c in decision.candidates] == ["a", "b"]
    # even when one of them leads: a bare topic word does not say which question
    leading = fusion.decide(MODEL, candidates[:2], [{"bias": 1, "semantic_lead": 0.2},
                                                   {"bias": 1, "semantic_lead": -0.2}])
    assert leading.kind == "clarify" and leading.reason == "topic"


def test_signals_see_opposites_and_negation() -> None:
    candidates = [Candidate("open", 0.6, "怎么开通花呗", similarity=0.8),
                  Candidate("close", 0.5, "怎么关闭花呗", similarity=0.8)]
    meaning = Meaning(np.array([0.90, 0.95], dtype=np.float32), np.array([0.5, 0.9], dtype=np.float32))
    rows = fusion.signals("怎么关闭花呗", candidates, meaning, [0, 1])
    assert rows[0]["opposite"] == 1.0 and rows[1]["opposite"] == 0.0
    assert rows[1]["semantic_lead"] > 0 > rows[0]["semantic_lead"]
    assert rows[1]["semantic_top"] == 1.0 and rows[0]["lexical_top"] == 1.0
    assert rows[1]["tuned_lead"] > 0.3 and rows[0]["tuned_top"] == 0.0
    negated = fusion.signals("花呗无法使用", [Candidate("use", 0.5, "花呗怎么使用")], None, [0])
    assert negated[0]["negation"] == 1.0 and "semantic" not in negated[0]

"""The learning loop, measured: how much accepted proposals raise accuracy on other questions.

A shop starts with its first KB (one question per entry: tests/data/shop_kb.yaml cut down). The
tuning questions are its customers' first weeks: every one the bot does not answer right goes to
an agent, who answers with the right entry, and the question is proposed as a paraphrase of it
(`kb gaps` / "learn"). After the owner accepts N of them, the held-out questions are asked.
Accepting is simulated by adding the question to the entry's paraphrases and rebuilding, which is
what `csgw kb review --accept` does to the stored KB. Prints one JSON line.

    python -m bench.bench_learning [--words-only]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import jieba

from bench.bench_accuracy import DATA, first_kb
from csgw.plugins.reply.embeddings import E5Embedder, VectorCache
from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.evaluation import evaluate, load_cases
from csgw.plugins.reply.kb import KnowledgeBase, load_kb

STEPS = (0, 5, 10, 20)


def accepted(kb: KnowledgeBase, proposals: list[dict[str, str]]) -> KnowledgeBase:
    entries = {entry.id: entry.model_copy(deep=True) for entry in kb.entries}
    for proposal in proposals:
        entries[proposal["expect"]].similar.append(proposal["text"])
    return KnowledgeBase(entries=list(entries.values()), synonyms=kb.synonyms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words-only", action="store_true")
    parser.add_argument("--cache", type=Path, default=Path(".cache/bench-vectors.sqlite"))
    args = parser.parse_args()
    jieba.setLogLevel(logging.WARNING)
    embedder = None if args.words_only else E5Embedder()
    cache = None if args.words_only else VectorCache(args.cache)
    kb = first_kb(load_kb(DATA / "shop_kb.yaml"))
    first_weeks = [case for case in load_cases(DATA / "questions_tune.yaml")
                   if case["expect"] not in ("none", "clarify")]
    held_out = load_cases(DATA / "questions_holdout.yaml")
    engine = ReplyEngine.from_kb(kb, embedder=embedder, cache=cache)
    misses = [case for case in first_weeks
              if engine.match(case["text"], vector=engine.vector(case["text"])).entry_id != case["expect"]]
    report: dict[str, object] = {"bench": "learning", "model": embedder.name if embedder else "words",
                                 "proposals_available": len(misses)}
    curve = []
    for count in [*STEPS, len(misses)]:
        if count > len(misses) or count in (point["accepted"] for point in curve):
            continue
        learned = ReplyEngine.from_kb(accepted(kb, misses[:count]), embedder=embedder, cache=cache)
        score = evaluate(learned, held_out)
        curve.append({"accepted": count, "right": round(score.accuracy, 4),
                      "within_one_question": round(score.within_one, 4),
                      "out_of_scope_answered": round(score.false_answer_rate, 4),
                      "wrong": len(score.wrong)})
        sys.stderr.write(f"{curve[-1]}\n")
    report["held_out"] = curve
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

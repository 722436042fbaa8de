"""Matching quality on held-out data: right, wrong, within one question, out-of-scope answered.

Sets (each KB built the hard way where it comes from a corpus: one raw question per entry):
- `shop`: the evaluation shop of tests/data (KB with paraphrases, written beside the engine);
- `shop-first-kb`: the same questions against that KB cut to one question per entry, no rules;
- `afqmc-sample`: the AFQMC dev-split sample shipped in tests/data (never used for calibration);
- with `--afqmc DIR` / `--lcqmc DIR`: AFQMC's whole dev split and LCQMC's test split, KBs of
  25, 300 and 1,000 entries. Those are the held-out splits: calibration reads only the others.

Prints one JSON line; `--words-only` measures the lexical fallback (no model).

    python -m bench.bench_accuracy [--afqmc DIR] [--lcqmc DIR] [--words-only]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import jieba

from bench.corpora import EvaluationSet, build_set, read_pairs
from csgw.plugins.reply.embeddings import E5Embedder, VectorCache
from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.evaluation import evaluate, load_cases
from csgw.plugins.reply.kb import KnowledgeBase, load_kb

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
AFQMC_SAMPLE = DATA / "afqmc_dev_sample.csv"
SAMPLE_ENTRIES = 150
SEED = 7


def first_kb(kb: KnowledgeBase) -> KnowledgeBase:
    """A shop's first KB: each entry's question and answer only."""
    entries = [entry.model_copy(update={"similar": [], "keywords": []}) for entry in kb.entries]
    return KnowledgeBase(entries=entries)


def sample_set() -> EvaluationSet:
    return build_set(read_pairs(AFQMC_SAMPLE), SAMPLE_ENTRIES, SEED, "afqmc-sample")


def corpus_sets(afqmc: Path | None, lcqmc: Path | None) -> list[EvaluationSet]:
    sets = []
    for name, path in (("afqmc-dev", afqmc / "dev.csv" if afqmc else None),
                       ("lcqmc-test", lcqmc / "test.tsv" if lcqmc else None)):
        if path is None:
            continue
        pairs = read_pairs(path)
        sets += [build_set(pairs, size, SEED, f"{name}-{size}") for size in (25, 300, 1000)]
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--afqmc", type=Path, help="folder with AFQMC's dev.csv")
    parser.add_argument("--lcqmc", type=Path, help="folder with LCQMC's test.tsv")
    parser.add_argument("--words-only", action="store_true", help="no model: the lexical fallback")
    parser.add_argument("--cache", type=Path, default=Path(".cache/bench-vectors.sqlite"))
    parser.add_argument("--misses", action="store_true", help="list misses on stderr")
    args = parser.parse_args()
    jieba.setLogLevel(logging.WARNING)
    embedder = None if args.words_only else E5Embedder()
    cache = None if args.words_only else VectorCache(args.cache)
    shop = load_kb(DATA / "shop_kb.yaml")
    runs: list[tuple[str, KnowledgeBase, list]] = [
        ("shop", shop, load_cases(DATA / "questions_holdout.yaml")),
        ("shop-first-kb", first_kb(shop), load_cases(DATA / "questions_holdout.yaml")),
        ("sites", load_kb(DATA / "sites_kb.yaml"), load_cases(DATA / "sites_holdout.yaml")),
    ]
    for evaluation in [sample_set(), *corpus_sets(args.afqmc, args.lcqmc)]:
        runs.append((evaluation.name, KnowledgeBase(entries=evaluation.entries), evaluation.cases))
    report: dict[str, object] = {"bench": "accuracy", "model": embedder.name if embedder else "words"}
    for name, kb, cases in runs:
        engine = ReplyEngine.from_kb(kb, embedder=embedder, cache=cache)
        started = time.perf_counter()
        score = evaluate(engine, cases)
        report[name] = {"kb_entries": len(kb.entries), **score.summary(),
                        "ms_per_question": round((time.perf_counter() - started) * 1000 / len(cases), 1)}
        if args.misses:
            for miss in (*score.wrong, *score.unanswered, *score.false_answers, *score.ambiguous_answered):
                sys.stderr.write(f"{name} miss: {miss}\n")
        sys.stderr.write(f"{name}: {json.dumps(report[name], ensure_ascii=False)}\n")
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

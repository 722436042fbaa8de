"""Matching quality on the evaluation shop (tests/data/): accuracy and false answers, tune vs held-out.

Prints one JSON line; `--misses` also prints every miss to stderr, for tuning against the
tuning set only.

    python bench/bench_accuracy.py [--misses]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import jieba

from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.evaluation import evaluate, load_cases
from csgw.plugins.reply.kb import load_kb

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = {"tune": "questions_tune.yaml", "holdout": "questions_holdout.yaml"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the tuning set's misses on stderr")
    args = parser.parse_args()
    jieba.setLogLevel(logging.WARNING)
    engine = ReplyEngine.from_kb(load_kb(DATA / "shop_kb.yaml"))
    report: dict[str, object] = {"bench": "accuracy", "kb_entries": len(engine.entries)}
    for name, file in SETS.items():
        score = evaluate(engine, load_cases(DATA / file))
        report[name] = score.summary()
        if args.misses and name == "tune":
            for miss in (*score.wrong, *score.unanswered, *score.false_answers, *score.ambiguous_answered):
                sys.stderr.write(f"miss: {miss}\n")
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

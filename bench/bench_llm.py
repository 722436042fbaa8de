"""Answer, ask back or no match, with and without the language model, on the held-out questions.

Each question is matched as the gateway matches it (`KnowledgeBaseReplies.match` on a fresh
conversation, the bundled model unless --words-only); where the knowledge base asked back or
found nothing, the entries nearest the question (`KnowledgeBaseReplies.nearest`) go through
`csgw.plugins.llm.answering.answer` (the strict prompt, the check) to the fake OpenAI-compatible
server of tests/fakes on loopback, whose model follows the prompt by simple rules: it answers
from the given entry sharing the most character pairs with the question when that share reaches
`ANSWER_SHARE` and leads the next entry's by `ANSWER_LEAD`, else says NO_ANSWER. So the figures measure the plumbing and the checks around
a model that obeys the prompt, not a real model's judgement. Latency is per question, matching
plus (where asked) the model over loopback HTTP; a real model adds its own seconds.

`--tune` runs the tuning questions (tests/data/questions_tune.yaml) at several shares and leads,
which is where the two were chosen; without it, the held-out questions at the chosen ones.

    python -m bench.bench_llm [--words-only] [--tune]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import jieba
import structlog

from bench.bench_accuracy import first_kb, sample_set
from csgw.plugins.llm import answering
from csgw.plugins.llm.config import LlmConfig
from csgw.plugins.llm.model import LanguageModel
from csgw.plugins.reply.embeddings import E5Embedder
from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.evaluation import load_cases
from csgw.plugins.reply.handler import KnowledgeBaseReplies
from csgw.plugins.reply.kb import KnowledgeBase, load_kb
from csgw.plugins.reply.query_encoder import QueryEncoder
from tests.fakes import openai_server
from tests.fakes.openai_server import FakeModel

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SITE = "webchat/default"
RULES = [(share, lead) for share in (0.3, 0.4, 0.5, 0.6) for lead in (0.0, 0.1, 0.2)]


def outcome(expected: str, answered: str | None, source: str) -> str:
    """right / wrong (another entry) / false (out of scope, answered) / clarify / none."""
    if answered is None:
        return "clarify" if source == "clarify" else "none"
    if expected in ("none", "clarify"):
        return "false"
    return "right" if answered == expected else "wrong"


async def run_set(kb: KnowledgeBaseReplies, cases: list[dict[str, Any]], model: LanguageModel) -> dict[str, Any]:
    without: Counter[str] = Counter()
    with_llm: Counter[str] = Counter()
    plain_ms: list[float] = []
    llm_ms: list[float] = []
    asked = 0
    for case in cases:
        text, expected = str(case["text"]), str(case["expect"])
        started = time.perf_counter()
        result = await kb.match(text, SITE)
        plain_ms.append((time.perf_counter() - started) * 1000)
        before = outcome(expected, result.entry_id if result.answered else None, result.source)
        without[before] += 1
        after = before
        if result.source in ("clarify", "none"):
            asked += 1
            entries = await kb.nearest(text, SITE, model.config.entries)
            found = await answering.answer(model, text, entries, "zh-Hans") if entries else None
            if found is not None and found.answered and found.entry is not None:
                after = outcome(expected, found.entry.id, "llm")
        llm_ms.append((time.perf_counter() - started) * 1000)
        with_llm[after] += 1
    return {"questions": len(cases), "without_llm": dict(without), "with_llm": dict(with_llm),
            "model_asked": asked, "ms_without": _latency(plain_ms), "ms_with": _latency(llm_ms)}


def _latency(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 1), "p95": round(ordered[int(len(ordered) * 0.95) - 1], 1)}


async def main_async(words_only: bool, tune: bool) -> dict[str, Any]:
    embedder = None if words_only else E5Embedder()
    shop = load_kb(DATA / "shop_kb.yaml")
    questions = load_cases(DATA / ("questions_tune.yaml" if tune else "questions_holdout.yaml"))
    sample = sample_set()
    runs: list[tuple[str, KnowledgeBase, list[dict[str, Any]]]] = [
        ("shop", shop, questions), ("shop-first-kb", first_kb(shop), questions)]
    if not tune:
        runs.append((sample.name, KnowledgeBase(entries=sample.entries), sample.cases))
    report: dict[str, Any] = {"bench": "llm", "set": "tune" if tune else "held-out",
                              "matching": embedder.name if embedder else "words"}
    async with FakeModel() as fake:
        model = LanguageModel(LlmConfig(base_url=fake.base_url, model="fake-prompt-follower"))
        for name, knowledge, cases in runs:
            engine = ReplyEngine.from_kb(knowledge, embedder=embedder)
            encoder = QueryEncoder(embedder, timeout=10) if embedder else None
            kb = KnowledgeBaseReplies(engine, encoder=encoder)
            for share, lead in RULES if tune else [(openai_server.ANSWER_SHARE, openai_server.ANSWER_LEAD)]:
                openai_server.ANSWER_SHARE, openai_server.ANSWER_LEAD = share, lead
                figures = await run_set(kb, cases, model)
                key = f"{name}@{share}/{lead}" if tune else name
                report[key] = {"kb_entries": len(knowledge.entries), "answer_share": share, "answer_lead": lead,
                               **figures}
                sys.stderr.write(f"{key}: {json.dumps(report[key], ensure_ascii=False)}\n")
            if encoder is not None:
                encoder.close()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words-only", action="store_true", help="no meaning model: the lexical fallback")
    parser.add_argument("--tune", action="store_true", help="the tuning questions at several shares and leads")
    args = parser.parse_args()
    jieba.setLogLevel(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    report = asyncio.run(main_async(args.words_only, args.tune))
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

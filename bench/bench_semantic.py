"""The model's costs: per-message latency on one core, indexing, restart, edits, memory, overload.

Real customer questions (the AFQMC sample in tests/data) make a 1,000-entry KB; messages are the
other questions of the sample. The model is limited to one core (OMP_NUM_THREADS=1), as the
gateway runs it by default (`model_threads = 1`). Prints one JSON line.

- `message_ms_*`: what a message costs: its vector (model) plus the engine's match;
- `index_10k_seconds`: a fresh 10,000-entry KB (texts never seen: every one is embedded);
- `restart_10k_seconds` / `edit_seconds`: the same KB from the vector store, and one entry changed;
- `rss_mb`: this process after loading the model, indexing 1,000 entries and matching;
- `overload`: 400 messages at once through the gateway's bounded queue: how many fell back to
  words, and the event loop's longest stall meanwhile.

    python -m bench.bench_semantic [--entries 1000] [--index 10000] [--messages 500] [--rounds 3]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402 - the thread count must be set before the model's runtime loads
import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jieba  # noqa: E402
import psutil  # noqa: E402
import structlog  # noqa: E402

from bench.corpora import read_pairs  # noqa: E402
from csgw.plugins.reply.embeddings import E5Embedder, VectorCache  # noqa: E402
from csgw.plugins.reply.engine import ReplyEngine  # noqa: E402
from csgw.plugins.reply.kb import Entry  # noqa: E402
from csgw.plugins.reply.query_encoder import QueryEncoder  # noqa: E402

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "afqmc_dev_sample.csv"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def questions() -> list[str]:
    return list(dict.fromkeys(text for pair in read_pairs(SAMPLE) for text in pair[:2]))


def entries_of(texts: list[str], count: int, tag: str = "") -> list[Entry]:
    """`count` entries; past the sample's size, questions come again with a numbered suffix."""
    out = []
    for number in range(count):
        text = texts[number % len(texts)]
        if number >= len(texts):
            text = f"{text}（{tag}{number // len(texts)}）"
        out.append(Entry(id=f"e{number}", question=text, answer=f"答案{number}"))
    return out


async def overload(engine: ReplyEngine, embedder: E5Embedder, texts: list[str]) -> dict[str, float]:
    encoder = QueryEncoder(embedder, queue=8, timeout=0.3)
    stall = 0.0
    done = False

    async def watch() -> None:
        nonlocal stall
        while not done:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            stall = max(stall, time.perf_counter() - before - 0.005)

    watcher = asyncio.create_task(watch())
    started = time.perf_counter()
    await asyncio.gather(*(encoder.encode(engine.query_text(text)) for text in texts))
    seconds = time.perf_counter() - started
    done = True
    await watcher
    encoder.close()
    return {"messages": len(texts), "fell_back": encoder.fallbacks, "seconds": round(seconds, 2),
            "loop_stall_ms_max": round(stall * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--index", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    jieba.setLogLevel(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    texts = questions()
    embedder = E5Embedder(threads=1)
    report: dict[str, object] = {"bench": "semantic", "model": embedder.name,
                                 "threads": os.environ["OMP_NUM_THREADS"]}
    with tempfile.TemporaryDirectory() as folder:
        cache = VectorCache(Path(folder) / "vectors.sqlite")
        kb = entries_of(texts[: args.entries], args.entries)
        started = time.perf_counter()
        engine = ReplyEngine.from_entries(kb, embedder=embedder, cache=cache)
        report["index_1k_seconds"] = round(time.perf_counter() - started, 1)
        asked = texts[args.entries:] or texts
        for text in asked[:20]:  # warm the model and jieba before timing
            engine.match(text, vector=engine.vector(text))
        rounds = []
        for number in range(args.rounds):  # the machine's speed drifts: report the median round
            total, matching = [], []
            for text in (asked * 10)[: args.messages]:
                started = time.perf_counter()
                vector = engine.vector(text)
                between = time.perf_counter()
                # a text not seen before: no remembered decision
                engine.match(text + " " * (number + 1), vector=vector)
                ended = time.perf_counter()
                total.append((ended - started) * 1000)
                matching.append((ended - between) * 1000)
            rounds.append((percentile(total, 0.99), percentile(total, 0.5), percentile(matching, 0.99)))
        rounds.sort()
        p99, p50, match_p99 = rounds[len(rounds) // 2]
        report.update(kb_entries=len(kb), message_ms_p50=round(p50, 1), message_ms_p99=round(p99, 1),
                      match_only_ms_p99=round(match_p99, 2),
                      message_ms_p99_rounds=[round(r[0], 1) for r in rounds],
                      rss_mb=round(psutil.Process().memory_info().rss / 2**20))
        report["overload"] = asyncio.run(overload(engine, embedder, (asked * 10)[:400]))

        if args.index:
            big = entries_of(texts, args.index, tag="b")
            started = time.perf_counter()
            engine = ReplyEngine.from_entries(big, embedder=embedder, cache=cache)
            report["index_10k_seconds"] = round(time.perf_counter() - started, 1)
            report["index_10k_embedded"] = engine.embedded
            started = time.perf_counter()
            engine = ReplyEngine.from_entries(big, embedder=embedder, cache=cache)
            report["restart_10k_seconds"] = round(time.perf_counter() - started, 1)
            edited = [*big[:-1], big[-1].model_copy(update={"question": big[-1].question + "呢"})]
            started = time.perf_counter()
            engine.rebuild(edited)
            report["edit_seconds"] = round(time.perf_counter() - started, 1)
            report["edit_embedded"] = engine.embedded
        cache.close()
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

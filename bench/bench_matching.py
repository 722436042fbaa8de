"""Per-message matching latency against 10,000 KB entries and 100,000 keyword rules.

Builds a synthetic knowledge base (Chinese-like words drawn with a Zipf skew, so common words
have long posting lists as in real text), then times `ReplyEngine.match` on a mix of
paraphrases, typos, keyword hits and out-of-scope messages. Prints one JSON line.

    python bench/bench_matching.py [--entries N] [--rules N] [--messages N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import time

import jieba

from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.kb import Entry, KeywordRule

# Common characters of customer-service Chinese; words are made from them.
CHARS = (
    "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后"
    "小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长"
    "知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最"
    "间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市"
    "眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计"
    "货款退换码鞋衣裤袜包邮费单券折扣价快递物流寄收签付账票税颜色尺寸号码质量洗缩水店铺会员积分活动优惠"
)
FILLERS = ["请问", "你好", "亲", "我想问一下", "麻烦", "那个", "就是", "呀", "吗", "呢", "啊"]


def zipf_choice(rng: random.Random, items: list[str], skew: float = 1.1) -> str:
    # inverse-CDF sample of a truncated Zipf distribution over `items`
    n = len(items)
    u = rng.random()
    rank = int((n ** (1 - skew) * u + (1 - u)) ** (1 / (1 - skew))) if skew != 1 else int(n ** u)
    return items[min(max(rank - 1, 0), n - 1)]


def make_vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(CHARS) for _ in range(rng.choice((2, 2, 2, 3, 4)))))
    return sorted(words, key=lambda _w: rng.random())


def make_sentence(rng: random.Random, vocab: list[str], words: int) -> str:
    return "".join(zipf_choice(rng, vocab) for _ in range(words))


def make_entries(rng: random.Random, vocab: list[str], rule_vocab: list[str], count: int,
                 rules: int) -> list[Entry]:
    per_entry, extra = divmod(rules, count)
    entries = []
    for number in range(count):
        question = make_sentence(rng, vocab, rng.randint(3, 6))
        similar = [make_sentence(rng, vocab, rng.randint(3, 6)) for _ in range(rng.randint(1, 4))]
        keyword_rules = []
        for _ in range(per_entry + (1 if number < extra else 0)):
            shape = rng.random()
            rare = lambda: rng.choice(rule_vocab)  # noqa: E731 - rules name specific words
            if shape < 0.4:
                keyword_rules.append(KeywordRule(any=[rare() for _ in range(rng.randint(1, 3))]))
            elif shape < 0.8:
                keyword_rules.append(KeywordRule(all=[rare(), [rare(), rare()]], none=[rare()]))
            else:
                keyword_rules.append(KeywordRule(all=[rare(), rare()], any=[rare(), rare()],
                                                 priority=rng.randint(0, 9)))
        category = f"类{number % 12}/子{number % 7}"
        entries.append(Entry(id=f"e{number}", category=category, question=question, similar=similar,
                             answer=f"答案{number}", keywords=keyword_rules,
                             priority=rng.randint(0, 3)))
    return entries


def typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    position = rng.randrange(len(text))
    return text[:position] + rng.choice(CHARS) + text[position + 1:]


def make_messages(rng: random.Random, entries: list[Entry], vocab: list[str],
                  count: int) -> list[tuple[str, str | None]]:
    """Messages with the entry each was made from (None for out-of-scope ones)."""
    messages: list[tuple[str, str | None]] = []
    for _ in range(count):
        kind = rng.random()
        entry = rng.choice(entries)
        if kind < 0.3:
            text = rng.choice(entry.texts())
        elif kind < 0.5:
            text = typo(rng, rng.choice(entry.texts()))
        elif kind < 0.7:
            text = rng.choice(FILLERS) + rng.choice(entry.texts()) + rng.choice(FILLERS)
        elif kind < 0.85:
            rule = rng.choice(entry.keywords) if entry.keywords else None
            words = (rule.any[:1] + [g if isinstance(g, str) else g[0] for g in rule.all]) if rule else []
            text = make_sentence(rng, vocab, 2) + "".join(words) + make_sentence(rng, vocab, 1)
        else:
            messages.append((make_sentence(rng, vocab, rng.randint(2, 10)), None))
            continue
        messages.append((text, entry.id))
    return messages


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rules", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    jieba.setLogLevel(logging.WARNING)
    rng = random.Random(args.seed)

    words = make_vocabulary(rng, 80_000)
    vocab, rule_vocab = words[:20_000], [word for word in words[20_000:] if len(word) >= 3]
    entries = make_entries(rng, vocab, rule_vocab, args.entries, args.rules)
    started = time.perf_counter()
    engine = ReplyEngine.from_entries(entries)
    build_seconds = time.perf_counter() - started
    messages = make_messages(rng, entries, vocab, args.messages)

    for text, _expected in messages[:200]:  # warm caches (jieba's, OpenCC's) before timing
        engine.match(text)
    timings: list[float] = []
    sources: dict[str, int] = {}
    right = wrong = in_scope = 0
    for text, expected in messages:
        started = time.perf_counter()
        result = engine.match(text)
        timings.append((time.perf_counter() - started) * 1e6)
        sources[result.source] = sources.get(result.source, 0) + 1
        if expected is not None:
            in_scope += 1
            right += result.answered and result.entry_id == expected
            # synthetic entries share random words, so a paraphrase may truly fit another one
            wrong += result.answered and result.entry_id != expected
    timings.sort()

    keyword_index = engine._index.keywords
    from csgw.plugins.reply.normalize import normalize

    normalized = [normalize(text) for text, _expected in messages]
    keyword_timings = []
    for text in normalized:
        started = time.perf_counter()
        keyword_index.match(text)
        keyword_timings.append((time.perf_counter() - started) * 1e6)
    keyword_timings.sort()

    retriever = engine._index.retriever
    retrieval_timings = []
    for text, _expected in messages:
        started = time.perf_counter()
        retriever.decide(retriever.rank(text))
        retrieval_timings.append((time.perf_counter() - started) * 1e6)
    retrieval_timings.sort()

    print(json.dumps({
        "benchmark": "reply_matching",
        "entries": args.entries,
        "keyword_rules": len(keyword_index),
        "messages": len(messages),
        "build_seconds": round(build_seconds, 2),
        "match_us_p50": round(percentile(timings, 0.50), 1),
        "match_us_p99": round(percentile(timings, 0.99), 1),
        "match_us_mean": round(statistics.fmean(timings), 1),
        "match_us_max": round(timings[-1], 1),
        "keywords_only_us_p50": round(percentile(keyword_timings, 0.50), 1),
        "keywords_only_us_p99": round(percentile(keyword_timings, 0.99), 1),
        "retrieval_only_us_p50": round(percentile(retrieval_timings, 0.50), 1),
        "retrieval_only_us_p99": round(percentile(retrieval_timings, 0.99), 1),
        "sources": sources,
        "in_scope_answered_right": round(right / max(in_scope, 1), 3),
        "in_scope_answered_other_entry": round(wrong / max(in_scope, 1), 3),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()

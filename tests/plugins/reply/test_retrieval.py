from __future__ import annotations

import pytest

from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.kb import Entry, KnowledgeBase
from csgw.plugins.reply.retrieval import Retriever


@pytest.fixture(scope="module")
def retriever(shop_kb: KnowledgeBase) -> Retriever:
    """Retrieval alone: keyword rules stripped, so these cases test matching beyond keywords."""
    entries = [entry.model_copy(update={"keywords": []}) for entry in shop_kb.entries]
    return Retriever(entries, shop_kb.synonyms)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("什么时候发货？？", "ship-time"),  # punctuation
        ("什麼時候發貨", "ship-time"),  # traditional characters
        ("什么时候发或", "ship-time"),  # typo (homophone)
        ("几天能发出来", "ship-time"),  # paraphrase
        ("退貨流程是什麼", "return-policy"),
        ("買大了能換小一碼嗎", "exchange-size"),
        ("运费多少钱", "free-shipping"),
        ("实体店在哪里", "stores"),
        ("最近有打折吗", "discount-event"),
        ("快递三天没动了", "tracking-stuck"),  # synonym: 快递 ~ 物流 ~ 包裹
        ("面料是啥", "material"),
        ("可以花呗分期吗", "installment"),
    ],
)
def test_paraphrases_typos_traditional_are_answered(retriever: Retriever, text: str,
                                                      expected: str) -> None:
    decision = retriever.decide(retriever.rank(text))
    assert decision.kind == "answer", decision
    assert decision.best is not None and decision.best.entry_id == expected


@pytest.mark.parametrize(
    ("text", "offered"),
    [
        ("发票", {"invoice", "invoice-change"}),
        ("运费", {"free-shipping", "return-shipping-fee"}),
        ("退", {"return-policy", "return-shipping-fee"}),
    ],
)
def test_topic_words_ask_back(retriever: Retriever, text: str, offered: set[str]) -> None:
    decision = retriever.decide(retriever.rank(text))
    assert decision.kind == "clarify"
    assert offered <= {candidate.entry_id for candidate in decision.candidates}
    assert len(decision.candidates) <= retriever.settings.max_candidates


@pytest.mark.parametrize("text", ["今天天气怎么样", "帮我写个作业", "股票明天会涨吗", "我想买台笔记本电脑",
                                  "哈哈哈哈", "你们老板是谁"])
def test_unknown_questions_are_not_answered(retriever: Retriever, text: str) -> None:
    assert retriever.decide(retriever.rank(text)).kind == "none"


def test_scores_are_a_bounded_confidence(retriever: Retriever) -> None:
    ranked = retriever.rank("下单后多久发货？")
    assert ranked[0].entry_id == "ship-time" and ranked[0].score == pytest.approx(1.0)
    assert all(0.0 <= c.score <= 1.0 for c in ranked)
    assert [c.score for c in ranked] == sorted((c.score for c in ranked), reverse=True)


def test_close_call_between_two_entries_asks_back() -> None:
    entries = [
        Entry(id="refund-time", question="退款多久到账", answer="a"),
        Entry(id="refund-how", question="退款怎么申请", answer="b"),
    ]
    retriever = Retriever(entries)
    decision = retriever.decide(retriever.rank("退款"))
    assert decision.kind == "clarify"
    assert {c.entry_id for c in decision.candidates} == {"refund-time", "refund-how"}


def test_channel_filter(shop_kb: KnowledgeBase) -> None:
    entries = [Entry(id="wx-only", question="公众号怎么关注", answer="a", channels=["wechat_oa"])]
    retriever = Retriever(entries)
    assert retriever.rank("公众号怎么关注", "email") == []
    assert retriever.rank("公众号怎么关注", "wechat_oa")[0].entry_id == "wx-only"


def test_kb_words_enter_the_jieba_dictionary() -> None:
    # without the KB's word, jieba cuts "运费险" into 运费/险; with it the word stays whole
    engine = ReplyEngine.from_entries([Entry(id="a", question="有运费险吗", answer="有",
                                             keywords=[{"any": ["运费险"]}])])
    features, _compact = engine._index.retriever.features("运费险怎么赔")
    assert "w运费险" in features


def test_global_jieba_is_untouched() -> None:
    import jieba

    Retriever([Entry(id="a", question="啵啵奶茶怎么买", answer="a", keywords=[{"any": ["啵啵奶茶"]}])],
              extra_words=["啵啵奶茶"])
    assert "啵啵奶茶" not in jieba.dt.FREQ


def test_a_dictionary_filled_by_first_character_cuts_as_the_whole_one(shop_kb: KnowledgeBase) -> None:
    """The retriever's tokenizer holds jieba's entries only for characters it has met; every cut,
    and each KB word it added, comes out as with jieba's whole dictionary and the same words added."""
    import csv
    from pathlib import Path

    import jieba

    from csgw.plugins.reply import dictionary
    from csgw.plugins.reply.normalize import normalize

    words = ["啵啵奶茶", "运费险", "七天无理由", "尺码表"]
    lazy = Retriever(shop_kb.entries, shop_kb.synonyms, extra_words=words)
    whole = jieba.Tokenizer()
    whole.FREQ, whole.total = dictionary.whole()
    whole.initialized = True
    for word in sorted({normalize(word) for word in words} | set(lazy._canonical)):
        if len(word) >= 2 and word not in whole.FREQ:
            whole.add_word(word)
    with (Path(__file__).parents[2] / "data" / "afqmc_dev_sample.csv").open(encoding="utf-8") as rows:
        texts = [text for row in csv.reader(rows) for text in row[:2]][:400]
    texts += [entry.question for entry in shop_kb.entries]
    assert len(texts) > 300
    for text in map(normalize, texts):
        assert lazy._cut(text) == whole.lcut(text, HMM=True), text
    assert len(lazy._known.freq) < len(whole.FREQ) / 2  # what those texts needed, not all of it
    for word in ("啵啵奶茶", "运费险", "发货", "发或"):
        assert lazy.word_frequency(word, -1) == whole.FREQ.get(word, -1)

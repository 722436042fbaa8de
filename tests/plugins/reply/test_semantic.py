"""Entry vectors: stored on disk and reused, re-embedded only for changed texts, scored per entry."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from csgw.plugins.reply.embeddings import VectorCache, embed_texts, missing
from csgw.plugins.reply.engine import ReplyEngine
from csgw.plugins.reply.kb import Entry
from csgw.plugins.reply.semantic import SemanticIndex
from tests.plugins.reply.fake_embedder import CharEmbedder

ENTRIES = [
    Entry(id="ship", question="几天发货", similar=["什么时候发货"], answer="48小时内发货"),
    Entry(id="refund", question="怎么退款", answer="在订单页申请退款"),
    Entry(id="invoice", question="能开发票吗", answer="可以开发票"),
]


def test_an_entry_scores_its_best_text() -> None:
    embedder = CharEmbedder()
    index, computed = SemanticIndex.build(ENTRIES, embedder)
    assert computed == 4 and len(index) == 3
    meaning = index.scores(embedder.embed(["什么时候发货呀"])[0])
    scores = meaning.general
    assert scores.shape == (3,) and int(np.argmax(scores)) == 0
    assert meaning.tuned is None  # the adapter is the e5 model's, not this test model's
    assert scores[0] > 0.9  # the paraphrase, not the question, is the close one


def test_restart_reuses_stored_vectors(tmp_path: Path) -> None:
    path = tmp_path / "vectors.sqlite"
    first = CharEmbedder()
    cache = VectorCache(path)
    engine = ReplyEngine.from_entries(ENTRIES, embedder=first, cache=cache)
    assert engine.embedded == 4 and first.texts == 4
    cache.close()

    again = CharEmbedder()  # a new process: a new model, the same file
    cache = VectorCache(path)
    engine = ReplyEngine.from_entries(ENTRIES, embedder=again, cache=cache)
    assert engine.embedded == 0 and again.texts == 0
    assert engine.semantic_ready
    assert engine.match("什么时候发货", vector=engine.vector("什么时候发货")).entry_id == "ship"


def test_an_edit_embeds_only_what_changed(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "vectors.sqlite")
    embedder = CharEmbedder()
    engine = ReplyEngine.from_entries(ENTRIES, embedder=embedder, cache=cache)
    edited = [*ENTRIES[:2], ENTRIES[2].model_copy(update={"similar": ["发票怎么开"]})]
    assert missing([t for e in edited for t in e.texts()], embedder, cache) == 1
    engine.rebuild(edited)
    assert engine.embedded == 1 and embedder.texts == 5


def test_vectors_are_keyed_by_model(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "vectors.sqlite")
    embed_texts(["几天发货"], CharEmbedder(), cache)
    other = CharEmbedder()
    other.name = "another-model"
    _, computed = embed_texts(["几天发货"], other, cache)
    assert computed == 1 and cache.count("fake-chars") == 1 and cache.count("another-model") == 1


def test_without_a_vector_words_decide() -> None:
    engine = ReplyEngine.from_entries(ENTRIES, embedder=CharEmbedder())
    result = engine.match("怎么退款")
    assert result.answered and result.entry_id == "refund" and result.semantic is False
    with_meaning = engine.match("怎么退款", vector=engine.vector("怎么退款"))
    assert with_meaning.semantic is True and with_meaning.entry_id == "refund"
    assert with_meaning.decision == "confident"
    assert set(with_meaning.to_dict()["signals"]) >= {"semantic", "semantic_lead", "lexical"}


def test_a_message_worded_as_an_entry_text_has_that_texts_vector() -> None:
    embedder = CharEmbedder()
    index, _ = SemanticIndex.build(ENTRIES, embedder)
    known = index.known_vector("什麼時候發貨？")  # a paraphrase, in traditional script, with punctuation
    assert known is not None and np.allclose(known, embedder.embed(["什么时候发货"])[0])
    assert index.known_vector("什么时候发货呀") is None  # any other wording is the model's to embed


async def test_the_model_does_not_run_for_a_message_worded_as_an_entry_text() -> None:
    from csgw.plugins.reply.handler import KnowledgeBaseReplies
    from csgw.plugins.reply.query_encoder import QueryEncoder

    embedder = CharEmbedder()
    engine = ReplyEngine(ENTRIES, embedder=embedder)
    built = embedder.texts
    encoder = QueryEncoder(embedder, queue=4, timeout=30)
    try:
        handler = KnowledgeBaseReplies(engine, encoder=encoder)
        asked = await handler.match("什么时候发货")
        assert embedder.texts == built and encoder.stats()["embedded"] == 0
        computed = ReplyEngine(ENTRIES, embedder=CharEmbedder())  # its own decisions, none remembered
        assert asked.to_dict() == computed.match("什么时候发货", vector=embedder.embed(["什么时候发货"])[0]).to_dict()
        assert asked.semantic
        await handler.match("请问到底什么时候发货啊")
        assert encoder.stats()["embedded"] == 1
    finally:
        encoder.close()

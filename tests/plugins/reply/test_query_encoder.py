"""The model never blocks the event loop: a stuck model makes messages fall back to words."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from csgw.plugins.reply.embeddings import E5Embedder, Embedder, VectorCache
from csgw.plugins.reply.model_health import ModelCheck
from csgw.plugins.reply.query_encoder import QueryEncoder
from tests.plugins.reply.fake_embedder import CharEmbedder


@pytest.fixture
def encoder_for() -> Iterator[Callable[..., QueryEncoder]]:
    """Makes encoders; after the test each is closed and its model's gate opened (a test that
    failed with the model held must not leave its worker thread waiting)."""
    made: list[QueryEncoder] = []

    def make(embedder: Embedder, **options: Any) -> QueryEncoder:
        made.append(QueryEncoder(embedder, **options))
        return made[-1]

    yield make
    for encoder in made:
        gate = getattr(encoder.embedder, "gate", None)
        if gate is not None:
            gate.set()
        encoder.close()


async def test_vectors_come_from_the_worker_and_repeat_questions_from_memory(encoder_for) -> None:
    embedder = CharEmbedder()
    encoder = encoder_for(embedder, queue=4, timeout=30)
    first = await encoder.encode("几天发货")
    again = await encoder.encode("几天发货")
    assert first is not None and again is first and embedder.calls == 1
    assert encoder.stats() == {"encoded": 1, "fallbacks": 0, "waiting": 0, "batches": 1,
                               "embedded": 1}


async def test_a_stuck_model_times_out_and_the_queue_bounds_waiting(encoder_for) -> None:
    gate = threading.Event()
    encoder = encoder_for(CharEmbedder(gate), queue=2, timeout=0.05)
    # two messages occupy the worker and its queue; they wait out the timeout, then fall back
    assert await asyncio.gather(encoder.encode("一"), encoder.encode("二")) == [None, None]
    assert encoder.waiting == 2  # the model still owes both
    # the queue is full: the next message falls back at once, without waiting for a timeout
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await encoder.encode("三") is None
    assert encoder.fallbacks == 3
    # the loop kept serving all along: a plain task runs while the model is stuck
    ran = await asyncio.wait_for(asyncio.create_task(asyncio.sleep(0, "served")), 5)
    assert ran == "served" and loop.time() - started < encoder.timeout * 20
    gate.set()
    while encoder.waiting:
        await asyncio.sleep(0.01)
    encoder.timeout = 30
    assert await encoder.encode("四") is not None
    calls = encoder.embedder.calls
    # the vectors their askers gave up on were kept: asked again, they cost nothing
    assert await encoder.encode("一") is not None and encoder.embedder.calls == calls
    assert encoder.stats()["fallbacks_timeout"] == 2 and encoder.stats()["fallbacks_busy"] == 1


async def test_a_broken_model_falls_back(encoder_for) -> None:
    class Broken(CharEmbedder):
        def embed(self, texts):  # noqa: ANN001, ANN201
            raise RuntimeError("engine crashed")

    encoder = encoder_for(Broken(), queue=2, timeout=5)
    assert await encoder.encode("几天发货") is None and encoder.fallbacks == 1


async def test_a_question_already_on_its_way_to_the_model_is_not_embedded_twice(encoder_for) -> None:
    gate = threading.Event()
    embedder = CharEmbedder(gate)
    encoder = encoder_for(embedder, queue=1, timeout=30)
    asked = [asyncio.create_task(encoder.encode("几天发货")) for _ in range(5)]
    await asyncio.sleep(0)  # all five are waiting; the queue of one did not turn four away
    gate.set()
    vectors = await asyncio.gather(*asked)
    assert all(v is not None for v in vectors) and embedder.calls == 1 and encoder.fallbacks == 0


async def test_texts_waiting_for_the_model_are_embedded_in_one_call_each_getting_its_own(encoder_for) -> None:
    gate = threading.Event()
    embedder = CharEmbedder(gate)
    encoder = encoder_for(embedder, queue=8, timeout=30, wait_budget=10)
    texts = ["几天发货", "怎么退货", "有发票吗", "包邮吗"]
    asked = [asyncio.create_task(encoder.encode(text)) for text in texts]
    await asyncio.sleep(0)  # the first is in the model, the other three wait for it
    assert encoder.waiting == 4
    gate.set()
    vectors = await asyncio.gather(*asked)
    assert embedder.calls == 2 and embedder.texts == 4
    assert encoder.stats()["batches"] == 2 and encoder.stats()["embedded"] == 4
    for text, vector in zip(texts, vectors, strict=True):
        assert np.array_equal(vector, CharEmbedder().embed([text])[0])


async def test_a_message_that_would_wait_longer_than_the_budget_is_matched_on_words(encoder_for) -> None:
    gate = threading.Event()
    encoder = encoder_for(CharEmbedder(gate), queue=8, timeout=30, wait_budget=0.07,
                           clock=lambda: 0.0)  # time stands still: the waits are as estimated
    encoder.per_text = 0.02
    # the first goes straight to the model; the next would have theirs in 0.04 s and 0.06 s
    admitted = [asyncio.create_task(encoder.encode(text)) for text in ("一", "二", "三")]
    await asyncio.sleep(0)
    assert encoder.waiting == 3
    assert await encoder.encode("四") is None  # it would wait 0.08 s: words, at once
    assert encoder.stats()["fallbacks_busy"] == 1 and encoder.waiting == 3
    gate.set()
    assert all(vector is not None for vector in await asyncio.gather(*admitted))
    assert encoder.fallbacks == 1


async def test_texts_that_normalise_alike_share_one_vector(encoder_for) -> None:
    gate = threading.Event()
    embedder = CharEmbedder(gate)
    encoder = encoder_for(embedder, queue=8, timeout=30)
    asked = [asyncio.create_task(encoder.encode(text)) for text in ("几天发货？", "幾天發貨")]
    await asyncio.sleep(0)
    assert encoder.waiting == 1  # the second waits for the first's vector
    gate.set()
    first, second = await asyncio.gather(*asked)
    assert first is second and await encoder.encode("几天发货!!") is first
    assert embedder.calls == 1


async def test_the_health_check_counts_messages_left_to_words_by_reason(encoder_for) -> None:
    gate = threading.Event()
    encoder = encoder_for(CharEmbedder(gate), queue=1, timeout=30)
    waiting = asyncio.create_task(encoder.encode("几天发货"))
    await asyncio.sleep(0)
    assert await encoder.encode("怎么退货") is None  # the queue of one is full
    gate.set()
    assert await waiting is not None
    result = await ModelCheck(SimpleNamespace(encoder=encoder)).run()
    assert result.status == "ok" and result.value == 1
    assert result.detail["fallbacks_busy"] == 1 and result.detail["encoded"] == 1
    assert result.detail["model"] == "fake-chars"
    off = await ModelCheck(SimpleNamespace(encoder=None)).run()
    assert off.detail == {"model": "off"}


def test_the_bundled_model_gives_a_text_the_same_vector_alone_or_in_a_batch(
        e5: tuple[E5Embedder, VectorCache]) -> None:
    """Why batching changes no decision: a message's vector does not depend on its batch-mates."""
    embedder = e5[0]
    texts = ["几天发货", "你好，请问怎么退货呀", "有发票吗", "我的订单12345到哪了", "包邮吗"]
    batched = embedder.embed(texts)
    for text, vector in zip(texts, batched, strict=True):
        assert np.array_equal(vector, embedder.embed([text])[0])

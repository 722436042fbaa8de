"""The model never blocks the event loop: a stuck model makes messages fall back to words."""

from __future__ import annotations

import asyncio
import threading

from csgw.plugins.reply.query_encoder import QueryEncoder
from tests.plugins.reply.fake_embedder import CharEmbedder


async def test_vectors_come_from_the_worker_and_repeat_questions_from_memory() -> None:
    embedder = CharEmbedder()
    encoder = QueryEncoder(embedder, queue=4, timeout=30)
    try:
        first = await encoder.encode("几天发货")
        again = await encoder.encode("几天发货")
        assert first is not None and again is first and embedder.calls == 1
        assert encoder.stats() == {"encoded": 1, "fallbacks": 0, "waiting": 0}
    finally:
        encoder.close()


async def test_a_stuck_model_times_out_and_the_queue_bounds_waiting() -> None:
    gate = threading.Event()
    encoder = QueryEncoder(CharEmbedder(gate), queue=2, timeout=0.05)
    try:
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
    finally:
        gate.set()
        encoder.close()


async def test_a_broken_model_falls_back() -> None:
    class Broken(CharEmbedder):
        def embed(self, texts):  # noqa: ANN001, ANN201
            raise RuntimeError("engine crashed")

    encoder = QueryEncoder(Broken(), queue=2, timeout=5)
    try:
        assert await encoder.encode("几天发货") is None and encoder.fallbacks == 1
    finally:
        encoder.close()


async def test_a_question_already_on_its_way_to_the_model_is_not_embedded_twice() -> None:
    gate = threading.Event()
    embedder = CharEmbedder(gate)
    encoder = QueryEncoder(embedder, queue=1, timeout=30)
    try:
        asked = [asyncio.create_task(encoder.encode("几天发货")) for _ in range(5)]
        await asyncio.sleep(0)  # all five are waiting; the queue of one did not turn four away
        gate.set()
        vectors = await asyncio.gather(*asked)
        assert all(v is not None for v in vectors) and embedder.calls == 1 and encoder.fallbacks == 0
    finally:
        gate.set()
        encoder.close()

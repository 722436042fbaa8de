"""Message vectors for the live gateway: one worker thread, waits bounded in time, never a stall.

The model takes ~10-20 ms per message on one core. It runs in its own thread (the C engine
releases the GIL), so the event loop keeps serving. Texts that arrive while it is busy wait
together and are embedded in one call when it is free (the engine streams its weights once per
call: ~12% less CPU per text from four texts on). A message is matched on its words alone (the
lexical model of the decision layer), and the fallback counted, when:

- `busy`: the model is busy and the text would wait for its vector longer than `wait_budget`
  (the texts before it and itself, times the measured time per text), or `queue` texts wait;
- `timeout`: its vector takes longer than `timeout` (the model ran slower than measured);
- `error`: the model failed.

Under overload ingest degrades in quality, never in latency. A vector depends only on the
text's `embedding_text`, so texts that normalise alike share one vector (cache and in-flight).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import structlog

from csgw.gateway.bounded_cache import BoundedCache

from .embeddings import Embedder, embedding_text

log = structlog.get_logger(__name__)
RECENT = 2048  # vectors of recent messages kept: shops hear the same questions all day
BATCH = 16  # texts embedded in one call at most
FIRST_GUESS = 0.02  # seconds per text until the model has been timed


class QueryEncoder:
    def __init__(self, embedder: Embedder, queue: int = 8, timeout: float = 0.3,
                 wait_budget: float = 0.04, clock: Callable[[], float] = time.monotonic) -> None:
        self.embedder = embedder
        self.queue = queue
        self.timeout = timeout
        self.wait_budget = wait_budget
        self.per_text = FIRST_GUESS  # measured wall seconds per text, moving average
        self.encoded = 0
        self.fallbacks = 0
        self.reasons: Counter[str] = Counter()
        self.batches = 0  # calls to the model
        self.embedded = 0  # texts it was given in them
        self._clock = clock
        self._recent = BoundedCache(RECENT)
        # key -> its vector on the way (None: the model failed); the text the model is given
        self._inflight: dict[str, asyncio.Future[np.ndarray | None]] = {}
        self._texts: dict[str, str] = {}
        self._pending: list[str] = []  # keys waiting for the model to be free
        self._running = 0  # texts in the model's current call
        self._started = 0.0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csgw-embed")

    @property
    def waiting(self) -> int:
        """Texts given to the model and not finished (timed-out ones included)."""
        return len(self._pending) + self._running

    async def encode(self, text: str) -> np.ndarray | None:
        """The message's vector, or None when the model is too busy to answer in time."""
        key = embedding_text(text)
        known = self._recent.get(key)
        if known is not None:
            return known
        future = self._inflight.get(key)
        if future is None:  # the same question asked again meanwhile waits for the same vector
            refused = self._refusal()
            if refused is not None:
                return self._fall_back(refused)
            future = asyncio.get_running_loop().create_future()
            self._inflight[key] = future
            self._texts[key] = text
            self._pending.append(key)
            if not self._running:
                self._next_batch()
        try:
            vector = await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except TimeoutError:
            return self._fall_back("timeout")
        if vector is None:
            return self._fall_back("error")
        self.encoded += 1
        return vector

    def _refusal(self) -> str | None:
        """Why a new text may not go to the model now, or None."""
        if self.waiting >= self.queue or self._expected_wait() > self.wait_budget:
            return "busy"
        return None

    def _expected_wait(self) -> float:
        """How long a new text would wait for its vector: the model's current call, the texts
        before it, its own. An idle model always takes it (and so keeps being timed)."""
        if not self._running:
            return 0.0
        rest = max(0.0, self._started + self._running * self.per_text - self._clock())
        return rest + (len(self._pending) + 1) * self.per_text

    def _next_batch(self) -> None:
        keys, self._pending = self._pending[:BATCH], self._pending[BATCH:]
        self._running = len(keys)
        self._started = self._clock()
        texts = [self._texts[key] for key in keys]
        job = asyncio.get_running_loop().run_in_executor(self._executor, self._embed, texts)
        job.add_done_callback(lambda done: self._delivered(keys, done))

    def _embed(self, texts: Sequence[str]) -> tuple[np.ndarray, float]:
        started = self._clock()
        vectors = self.embedder.embed(texts)
        return vectors, self._clock() - started

    def _delivered(self, keys: list[str], job: asyncio.Future) -> None:
        self._running = 0
        self.batches += 1
        self.embedded += len(keys)
        vectors: Sequence[np.ndarray | None] = [None] * len(keys)
        if job.cancelled():
            pass
        elif job.exception() is not None:  # a broken model must not take replies down with it
            log.warning("embedding failed, matching on words", error=str(job.exception()))
        else:
            matrix, seconds = job.result()
            vectors = list(matrix)
            self.per_text = 0.8 * self.per_text + 0.2 * seconds / len(keys)
        for key, vector in zip(keys, vectors, strict=True):
            self._texts.pop(key, None)
            future = self._inflight.pop(key, None)
            if vector is not None:
                self._recent.put(key, vector)  # kept even when its asker gave up waiting
            if future is not None and not future.done():
                future.set_result(vector)
        if self._pending:
            self._next_batch()

    def _fall_back(self, why: str) -> np.ndarray | None:
        """Count a message left to words (the caller returns this None)."""
        self.fallbacks += 1
        self.reasons[why] += 1
        if self.fallbacks in (1, 10, 100) or self.fallbacks % 1000 == 0:
            log.info("model busy, matching on words", reason=why, fallbacks=self.fallbacks)
        return None

    def close(self) -> None:
        self._pending.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def stats(self) -> dict[str, int]:
        return {"encoded": self.encoded, "fallbacks": self.fallbacks, "waiting": self.waiting,
                "batches": self.batches, "embedded": self.embedded, **{f"fallbacks_{why}": n for why, n in self.reasons.items()}}

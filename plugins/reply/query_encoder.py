"""Message vectors for the live gateway: one worker thread, a bounded queue, never a stall.

The model takes ~15-30 ms per message on one core. It runs in its own thread (the C engine
releases the GIL), so the event loop keeps serving. When `queue` messages already wait, or a
vector takes longer than `timeout`, the message is matched on its words alone (the lexical
model of the decision layer) and the fallback is counted: under overload ingest degrades in
quality, never in latency.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import structlog

from csgw.gateway.bounded_cache import BoundedCache

from .embeddings import Embedder

log = structlog.get_logger(__name__)
RECENT = 2048  # vectors of recent messages kept: shops hear the same questions all day


class QueryEncoder:
    def __init__(self, embedder: Embedder, queue: int = 8, timeout: float = 0.3) -> None:
        self.embedder = embedder
        self.queue = queue
        self.timeout = timeout
        self.waiting = 0  # submitted to the worker and not finished (timed-out ones included)
        self.encoded = 0
        self.fallbacks = 0
        self._recent = BoundedCache(RECENT)
        self._inflight: dict[str, asyncio.Future[np.ndarray]] = {}  # text -> its vector on the way
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csgw-embed")

    def _embed(self, text: str) -> np.ndarray:
        return self.embedder.embed([text])[0]

    def _finished(self, _future: object) -> None:
        self.waiting -= 1

    async def encode(self, text: str) -> np.ndarray | None:
        """The message's vector, or None when the model is too busy to answer in time."""
        known = self._recent.get(text)
        if known is not None:
            return known
        future = self._inflight.get(text)
        if future is None:  # the same question asked again meanwhile waits for the same vector
            if self.waiting >= self.queue:
                self._fall_back("queue_full")
                return None
            self.waiting += 1
            future = asyncio.get_running_loop().run_in_executor(self._executor, self._embed, text)
            future.add_done_callback(self._finished)
            self._inflight[text] = future
            future.add_done_callback(lambda _done: self._inflight.pop(text, None))
        try:
            vector = await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except TimeoutError:
            self._fall_back("timeout")
            return None
        except Exception as error:  # a broken model must not take replies down with it
            log.warning("embedding failed, matching on words", error=str(error))
            self._fall_back("error")
            return None
        self.encoded += 1
        self._recent.put(text, vector)
        return vector

    def _fall_back(self, why: str) -> None:
        self.fallbacks += 1
        if self.fallbacks in (1, 10, 100) or self.fallbacks % 1000 == 0:
            log.info("model busy, matching on words", reason=why, fallbacks=self.fallbacks)
        return None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def stats(self) -> dict[str, int]:
        return {"encoded": self.encoded, "fallbacks": self.fallbacks, "waiting": self.waiting}

"""Inbound messages stored but left unanswered because the store would not take their answers.

They stay unprocessed in the store (a restart answers them too) and are answered again here once
it writes: all at once when the writer reports a commit after failing; otherwise the oldest is
tried with back-off, and when it gets through, the rest follow. Each try takes its messages out of
the set first, so no message is processed by two tries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import structlog

from csgw.gateway.storage.unavailable import STORE_UNAVAILABLE

if TYPE_CHECKING:
    from csgw.gateway.storage.writer import GroupCommitWriter

log = structlog.get_logger(__name__)

RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 5.0


class StalledAnswers:
    """`answer(ids)` answers the messages `ids`, stalling again (`stall`) those the store still
    refuses; `stopping()` says a stop began: the stalled ones then wait for the next start."""

    def __init__(self, writer: GroupCommitWriter, answer: Callable[[set[int]], Awaitable[object]],
                 stopping: Callable[[], bool]) -> None:
        self._answer, self._stopping = answer, stopping
        self._ids: set[int] = set()
        self._store_back = asyncio.Event()
        self._retrying: asyncio.Task[None] | None = None
        writer.on_recovered(self._store_back.set)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._ids

    def stall(self, *message_ids: int) -> None:
        self._ids.update(message_ids)
        if self._retrying is None and not self._stopping():
            self._retrying = asyncio.create_task(self._retry(), name="csgw-stalled")

    async def stop(self) -> None:
        if self._retrying is not None:
            self._retrying.cancel()
            await asyncio.gather(self._retrying, return_exceptions=True)

    async def _retry(self) -> None:
        delay, everything = RETRY_FIRST_SECONDS, False
        try:
            while self._ids and not self._stopping():
                if not everything:
                    try:
                        await asyncio.wait_for(self._store_back.wait(), delay)
                        everything = True
                    except TimeoutError:
                        pass
                self._store_back.clear()
                ids = set(self._ids) if everything else {min(self._ids)}
                self._ids -= ids
                try:
                    await self._answer(ids)
                except STORE_UNAVAILABLE as error:  # could not even read them back
                    log.warning("stalled messages wait for the store", count=len(ids), error=str(error))
                    self._ids |= ids
                if ids & self._ids:
                    delay, everything = min(delay * 2, RETRY_MAX_SECONDS), False
                else:
                    delay, everything = RETRY_FIRST_SECONDS, True
        except Exception:  # the store closed under it: the next start answers them
            log.exception("retrying stalled messages failed", count=len(self._ids))
        finally:
            self._retrying = None

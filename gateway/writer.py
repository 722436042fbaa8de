"""The one writer: every write job goes through here and is committed in groups.

Jobs queued while a transaction runs are committed together in the next one, so the cost of
a commit (an fsync on SQLite) is shared by everyone waiting; each caller's future resolves only
after its job's transaction has committed. If a batch fails, its jobs are retried one per
transaction so a single bad job cannot take the others down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Any, TypeVar

import structlog
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

log = structlog.get_logger(__name__)

T = TypeVar("T")
Job = Callable[[BaseDBAsyncClient], Awaitable[Any]]
# A batch handler takes many items at once and returns one result per item, in order.
BatchHandler = Callable[[BaseDBAsyncClient, list[Any]], Awaitable[list[Any]]]


@dataclass(slots=True)
class Entry:
    future: asyncio.Future[Any]
    job: Job | None = None
    handler: BatchHandler | None = None
    item: Any = None


class WriterClosed(RuntimeError):
    """The writer is shutting down and takes no more jobs."""


class GroupCommitWriter:
    def __init__(self, max_batch: int = 256) -> None:
        self.max_batch = max_batch
        self._queue: asyncio.Queue[Entry] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0
        self.jobs = 0
        self.last_error: str | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="csgw-writer")

    async def run(self, job: Callable[[BaseDBAsyncClient], Awaitable[T]]) -> T:
        """Queue `job`; return its result once its transaction has committed."""
        return await self._enqueue(Entry(self._future(), job=job))

    async def run_batched(self, handler: BatchHandler, item: Any) -> Any:
        """Queue `item`; consecutive items of one handler in a batch are handled in one call."""
        return await self._enqueue(Entry(self._future(), handler=handler, item=item))

    def _future(self) -> asyncio.Future[Any]:
        if self._closed:
            raise WriterClosed("the store is shutting down")
        return asyncio.get_running_loop().create_future()

    async def _enqueue(self, entry: Entry) -> Any:
        self._queue.put_nowait(entry)
        return await entry.future

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    async def close(self) -> None:
        """Commit everything already queued, then stop."""
        self._closed = True
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[Entry]) -> None:
        live = [entry for entry in batch if not entry.future.cancelled()]
        try:
            async with in_transaction() as connection:
                results = await _execute(connection, live)
        except Exception as error:
            self.last_error = repr(error)
            if len(live) == 1:
                _settle(live[0].future, error=error)
                return
            log.warning("batch failed, retrying jobs one by one", jobs=len(live), error=repr(error))
            for entry in live:
                await self._commit_one(entry)
            return
        self.batches += 1
        self.jobs += len(live)
        self.last_error = None
        for entry, result in zip(live, results, strict=True):
            _settle(entry.future, result=result)

    async def _commit_one(self, entry: Entry) -> None:
        try:
            async with in_transaction() as connection:
                [result] = await _execute(connection, [entry])
        except Exception as error:
            _settle(entry.future, error=error)
        else:
            self.jobs += 1
            _settle(entry.future, result=result)


async def _execute(connection: BaseDBAsyncClient, entries: list[Entry]) -> list[Any]:
    """Run entries in queue order; a run of one batch handler's items becomes one call."""
    results: list[Any] = []
    for handler, run in groupby(entries, key=lambda e: e.handler):
        run = list(run)
        if handler is None:
            results.extend([await entry.job(connection) for entry in run])
        else:
            handled = await handler(connection, [entry.item for entry in run])
            if len(handled) != len(run):
                raise RuntimeError(f"batch handler returned {len(handled)} results for {len(run)} items")
            results.extend(handled)
    return results


def _settle(future: asyncio.Future[Any], *, result: Any = None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)

"""The one writer: every write job goes through here and is committed in groups.

Jobs queued while a transaction runs are committed together in the next one, so the cost of
a commit (an fsync on SQLite) is shared by everyone waiting; each caller's future resolves only
after its job's transaction has committed. If a batch fails, its jobs are retried one per
transaction so a single bad job cannot take the others down.

A job that lost a race to another instance on a shared PostgreSQL (a unique key another
transaction committed first: the same inbound message stored by two instances at once, a new
customer's identity, or the one open conversation of a customer's thread, `open_conversations.py`)
is not a failure: it runs again, alone, in a new transaction, where it finds the other instance's
row (an inbound message then answers as a duplicate, or joins that conversation). See `lost_race`.

After a failed commit the writer is failing until one commits again; that return to health is
reported to `on_recovered` listeners once (the pipeline then answers what the failure left behind).

A job is a plan (`run_plan`, see `plans.py`) or a batched item (`run_batched`: a handler turns
all queued items of its kind into one plan). Every job of a batch shares one transaction; on
SQLite the plans of a batch run in the writer's own thread and connection, in one hop. Nothing
else writes: the ORM's connection only reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Protocol, TypeVar

import structlog
from tortoise.exceptions import DBConnectionError, IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from csgw.gateway.storage.plans import Plan, run_plan_async

log = structlog.get_logger(__name__)

T = TypeVar("T")
RACE_RETRIES = 2  # runs again of a job that lost a race (each time to a different transaction)
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE
# A batch handler turns many items into one plan whose result is one result per item, in order.
BatchHandler = Callable[[list[Any]], Plan[list[Any]]]


def each_plan(calls: list[tuple[Callable[..., Plan[Any]], tuple[Any, ...], dict[str, Any]]]) -> Plan[list[Any]]:
    """Plans queued one by one (`run_plan`), run in a row: one result each."""
    results = []
    for plan, args, kwargs in calls:
        results.append((yield from plan(*args, **kwargs)))
    return results


class PlanRunner(Protocol):
    async def run(self, plans: list[Plan[Any]]) -> list[Any]:
        """Run `plans` in one transaction; their results in order."""

    async def close(self) -> None: ...


class OrmPlanRunner:
    """Plans statement by statement on the ORM's connection (PostgreSQL, tests)."""

    async def run(self, plans: list[Plan[Any]]) -> list[Any]:
        async with in_transaction() as connection:
            return [await run_plan_async(connection, plan) for plan in plans]

    async def close(self) -> None:
        pass


@dataclass(slots=True)
class Entry:
    future: asyncio.Future[Any]
    handler: BatchHandler
    item: Any


class WriterClosed(RuntimeError):
    """The writer is shutting down and takes no more jobs."""


class GroupCommitWriter:
    def __init__(self, max_batch: int = 256) -> None:
        self.max_batch = max_batch
        self._queue: asyncio.Queue[Entry] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.runner: PlanRunner = OrmPlanRunner()
        self.batches = 0
        self.jobs = 0
        self.last_error: str | None = None
        self.failing = False
        self._recovered: list[Callable[[], None]] = []

    def on_recovered(self, listener: Callable[[], None]) -> None:
        """Call `listener` each time a commit succeeds after failed ones (the store is back)."""
        self._recovered.append(listener)

    def start(self, runner: PlanRunner | None = None) -> None:
        if runner is not None:
            self.runner = runner
        self._task = asyncio.create_task(self._run(), name="csgw-writer")

    async def run_plan(self, plan: Callable[..., Plan[T]], *args: Any, **kwargs: Any) -> T:
        """Queue `plan(*args, **kwargs)`; its result once committed. The plan is built when its batch
        runs (and again if the batch must be retried job by job): pass the function, not a plan."""
        result: T = await self.run_batched(each_plan, (plan, args, kwargs))
        return result

    async def run_batched(self, handler: BatchHandler, item: Any) -> Any:
        """Queue `item`; consecutive items of one handler in a batch are handled in one call."""
        return await self._enqueue(Entry(self._future(), handler, item))

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
        await self.runner.close()

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
        entries = [entry for entry in batch if not entry.future.cancelled()]
        if not entries:
            return
        try:
            results = await self._run_plans(entries)
        except Exception as error:
            if lost_race(error):
                log.info("write lost a race to another instance, running it again", jobs=len(entries),
                         error=str(error))
            else:
                self._failed(error)
                if len(entries) == 1:
                    _settle(entries[0].future, error=error)
                    return
                log.warning("batch failed, retrying jobs one by one", jobs=len(entries), error=repr(error))
            for entry in entries:
                await self._commit_one(entry)
            return
        self.batches += 1
        self.jobs += len(entries)
        self._committed()
        for entry, result in zip(entries, results, strict=True):
            _settle(entry.future, result=result)

    async def _commit_one(self, entry: Entry) -> None:
        for attempt in range(RACE_RETRIES + 1):
            try:
                [result] = await self._run_plans([entry])
            except Exception as error:
                if lost_race(error) and attempt < RACE_RETRIES:
                    log.info("write lost a race to another instance, running it again", error=str(error))
                    continue
                self._failed(error)
                _settle(entry.future, error=error)
                return
            self.jobs += 1
            self._committed()
            _settle(entry.future, result=result)
            return

    def _failed(self, error: Exception) -> None:
        self.last_error = repr(error)
        if isinstance(error, OperationalError | DBConnectionError) and not isinstance(error, IntegrityError):
            self.failing = True  # locked, full or gone: not one bad job

    def _committed(self) -> None:
        self.last_error = None
        if not self.failing:
            return
        self.failing = False
        log.info("store writes again")
        for listener in self._recovered:
            try:
                listener()
            except Exception:
                log.exception("store recovery listener failed")

    async def _run_plans(self, entries: list[Entry]) -> list[Any]:
        """A run of one handler's items becomes one plan; all plans share one transaction."""
        runs = [list(run) for _, run in groupby(entries, key=lambda e: e.handler)]
        plans = [run[0].handler([entry.item for entry in run]) for run in runs]
        results: list[Any] = []
        for run, handled in zip(runs, await self.runner.run(plans), strict=True):
            if len(handled) != len(run):
                raise RuntimeError(f"batch handler returned {len(handled)} results for {len(run)} items")
            results.extend(handled)
        return results


def lost_race(error: Exception) -> bool:
    """A unique key violated on PostgreSQL: a transaction of another instance committed the same
    key first (PostgreSQL makes an insert wait for the transaction holding its key and fails it
    only once that one committed), so a new transaction sees that row. SQLite never races: one
    process writes, and a plan reads under the write lock it took first."""
    return isinstance(error, IntegrityError) and getattr(error.__cause__, "sqlstate", None) == UNIQUE_VIOLATION


def _settle(future: asyncio.Future[Any], *, result: Any = None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)

"""Which due outbox rows this instance may send.

On SQLite one process owns the store, so every due row is its own. On PostgreSQL several
instances share the outbox: each leases the rows it takes (`claimed_by`, `claimed_until`) with
`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`, so no row is taken twice. The lease is
renewed while the instance lives; when it dies, its rows are free again once the lease lapses.
Rows it took but will not send now (their conversation waits for an earlier reply, or their
account is busy) are handed back at once, so another instance need not wait for the lease.

`LeasedRows` does this for any table with the outbox's columns (`state`, `next_attempt_at`,
`claimed_by`, `claimed_until`); plugins' own queues (the webhook deliveries) lease theirs with it.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from tortoise.expressions import Q

from csgw.gateway.clock import now
from csgw.gateway.models import OutboxItem
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.storage.plans import ExecuteMany, Plan, Select, marks
from csgw.gateway.storage.writer import GroupCommitWriter

if TYPE_CHECKING:
    from csgw.gateway.ports import Writes

log = structlog.get_logger(__name__)

DEFAULT_LEASE_SECONDS = 30.0


def instance_name() -> str:
    """Host, process and a random tag: unique among the instances sharing one store."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class LeasedRows:
    """Due rows of `table`, oldest first, leased to this instance when the store is `shared`.

    `ready` is an extra SQL condition on the candidate row (aliased "due"), such as "no earlier
    row of its conversation is pending": rows that fail it are not taken at all."""

    def __init__(self, writer: Writes, table: str, *, shared: bool, instance: str | None = None,
                 lease_seconds: float = DEFAULT_LEASE_SECONDS, ready: str = "") -> None:
        self.writer = writer
        self.table = table
        self.shared = shared
        self.instance = instance or instance_name()
        self.lease = timedelta(seconds=lease_seconds)
        self.ready = f" AND {ready}" if ready else ""
        self._renewed_at: datetime | None = None

    async def due_ids(self, at: datetime, limit: int, skip: Sequence[tuple[str, str]] = ()) -> list[int]:
        """Ids of due rows; on a shared store only those this instance now holds, leaving the
        (channel, account) pairs in `skip` unleased (tables with those columns; the outbox skips
        its paused accounts on an unshared store with the ORM)."""
        if not self.shared:
            rows = await Sql().rows(
                f'SELECT "id" FROM "{self.table}" AS "due" WHERE "state" = :pending '
                f'AND "next_attempt_at" <= :at{self.ready} ORDER BY "id" LIMIT :limit',
                pending="pending", at=at, limit=limit)
            return [row["id"] for row in rows]
        skipped = "".join(' AND NOT ("due"."channel" = ? AND "due"."account" = ?)' for _ in skip)
        skip_params = [value for pair in skip for value in pair]
        return await self.writer.run_plan(_claim_plan, self.table, self.ready + skipped, skip_params,
                                          self.instance, at, at + self.lease, limit)

    async def release(self, item_ids: Sequence[int]) -> None:
        """Hand back rows this instance holds but did not finish (sent or failed rows are done anyway)."""
        if not (self.shared and item_ids):
            return
        try:
            await self.writer.run_plan(_release_plan, self.table, self.instance, list(item_ids))
        except Exception as error:  # the store is failing: the rows come free when the lease lapses
            log.warning("leased rows not handed back", table=self.table, rows=len(item_ids), error=repr(error))

    async def renew(self) -> None:
        """Extend the lease on every row held, once a third of it has passed."""
        if not self.shared:
            return
        at = now()
        if self._renewed_at is not None and at - self._renewed_at < self.lease / 3:
            return
        self._renewed_at = at
        await self.writer.run_plan(_renew_plan, self.table, self.instance, at + self.lease)


class OutboxClaims(LeasedRows):
    def __init__(self, writer: GroupCommitWriter, *, shared: bool, instance: str | None = None,
                 lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        super().__init__(writer, "outbox", shared=shared, instance=instance, lease_seconds=lease_seconds)

    async def due(self, at: datetime, limit: int, skip: Sequence[tuple[str, str]] = ()) -> list[OutboxItem]:
        """Due rows, oldest first, but none of the (channel, account) pairs in `skip`; on a
        shared store only those this instance now holds."""
        if not self.shared:
            query = OutboxItem.filter(state="pending", next_attempt_at__lte=at)
            for channel, account in skip:  # (exclude(channel=, account=) would skip either)
                query = query.filter(~Q(channel=channel, account=account))
            return await query.order_by("id").limit(limit)
        ids = await self.due_ids(at, limit, skip)
        return await OutboxItem.filter(id__in=ids).order_by("id") if ids else []


def _claim_plan(table: str, ready: str, ready_params: list[str], instance: str, at: datetime,
                until: datetime, limit: int) -> Plan[list[int]]:
    rows = yield Select(
        f'UPDATE "{table}" SET "claimed_by" = ?, "claimed_until" = ? WHERE "id" IN ('
        f'SELECT "id" FROM "{table}" AS "due" WHERE "state" = ? AND "next_attempt_at" <= ? '
        f'AND ("claimed_until" IS NULL OR "claimed_until" < ? OR "claimed_by" = ?){ready} '
        'ORDER BY "id" LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING "id"',
        [instance, until, "pending", at, at, instance, *ready_params, limit])
    return sorted(row[0] for row in rows)


def _release_plan(table: str, instance: str, item_ids: list[int]) -> Plan[None]:
    yield ExecuteMany(
        f'UPDATE "{table}" SET "claimed_by" = NULL, "claimed_until" = NULL '
        f'WHERE "claimed_by" = ? AND "id" IN ({marks(len(item_ids))})', [[instance, *item_ids]])


def _renew_plan(table: str, instance: str, until: datetime) -> Plan[None]:
    yield ExecuteMany(f'UPDATE "{table}" SET "claimed_until" = ? WHERE "claimed_by" = ? AND "state" = ?',
                      [[until, instance, "pending"]])

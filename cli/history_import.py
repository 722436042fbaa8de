"""Importing checked history records: one page per transaction, through the gateway's own writer.

Each page is a plan (see `gateway.sql_plans`) run by a `GroupCommitWriter`: on SQLite that is
the writer's own connection taking the write lock up front (`BEGIN IMMEDIATE`) and waiting the
store's busy timeout for a running gateway, exactly as the gateway's writes do. A page that
still finds the store locked is retried whole. Every record has an identity (its platform
external id, else `import:<export id>`), so pages already stored are skipped: a second run adds
nothing, and a run stopped midway is finished by running it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from tortoise.exceptions import IntegrityError, OperationalError

from csgw.cli.history_records import ImportRecord, read_pages
from csgw.gateway.clock import now
from csgw.gateway.models import Agent, Conversation
from csgw.gateway.storage.customer_plans import customer_for_identity
from csgw.gateway.storage.db import plan_runner
from csgw.gateway.storage.message_plans import MESSAGE_COLUMNS
from csgw.gateway.storage.plans import ExecuteMany, Insert, Plan, Select, marks, new_row
from csgw.gateway.storage.writer import GroupCommitWriter

PAGE = 1000  # records per transaction: a running gateway waits for at most one page
LOCK_RETRIES = 8  # attempts per page while another process holds the store's write lock
LOCK_BACKOFF = 0.5  # seconds, times the attempt, between attempts (after the busy timeout)
LOOKUP_CHUNK = 500  # external ids per query, well under every engine's parameter limit

IdentityKey = tuple[str, str, str]  # channel, account, platform user id


@dataclass(frozen=True, slots=True)
class PageJob:
    """One page and what earlier pages learned; the plan reads only this (it runs in the writer's thread)."""

    records: list[ImportRecord]
    conversations: dict[Any, int]  # source conversation id -> conversation here
    customers: dict[IdentityKey, int]
    agents: frozenset[int]


@dataclass(frozen=True, slots=True)
class PageResult:
    imported: int
    skipped: int
    conversations: dict[Any, int]  # what the page mapped, to remember once it has committed
    customers: dict[IdentityKey, int]


def import_pages_plan(jobs: list[PageJob]) -> Plan[list[PageResult]]:
    """The writer's batch handler: each page in turn, one result per page."""
    results = []
    for job in jobs:
        results.append((yield from import_page_plan(job)))
    return results


def import_page_plan(job: PageJob) -> Plan[PageResult]:
    """Skip the records already stored, rebuild the rest with their conversations and customers."""
    conversations, customers = dict(job.conversations), dict(job.customers)
    stored = yield from _stored_messages(job.records)
    rows: list[list[Any]] = []
    touched: dict[int, tuple[datetime, int | None]] = {}
    for record in job.records:
        if record.key in stored:
            conversations.setdefault(record.conversation_id, stored[record.key])
            continue
        target = conversations.get(record.conversation_id)
        if target is None:
            identity = _identity_of(record)
            if identity not in customers:
                customers[identity] = yield from _customer_for(identity)
            target = yield from _new_conversation(record, customers[identity])
            conversations[record.conversation_id] = target
        agent_id = record.agent_id if record.agent_id in job.agents else None
        rows.append(message_row(target, record, agent_id))
        last, agent = touched.get(target, (record.created_at, None))
        touched[target] = (max(last, record.created_at), agent_id or agent)
    yield Insert("message", MESSAGE_COLUMNS, rows)
    yield from _close_at_last_message(touched)
    return PageResult(len(rows), len(job.records) - len(rows),
                      {k: v for k, v in conversations.items() if k not in job.conversations},
                      {k: v for k, v in customers.items() if k not in job.customers})


def message_row(conversation_id: int, record: ImportRecord, agent_id: int | None) -> list[Any]:
    """The message's columns (MESSAGE_COLUMNS); imported messages are answered and delivered history."""
    source = {"id": record.id, "conversation_id": record.conversation_id, "customer_id": record.customer_id,
              "agent_id": record.agent_id}
    return [conversation_id, record.channel, record.account, record.direction, record.sender, agent_id,
            record.kind, record.text, {"imported": source}, record.external_id, True,
            "sent" if record.direction == "out" else None, None, record.created_at, record.platform_ts]


def _stored_messages(records: list[ImportRecord]) -> Plan[dict[tuple[str, str, str], int]]:
    """The page's messages already in the store (an earlier run, or the platform): key -> conversation."""
    wanted: dict[tuple[str, str], list[str]] = {}
    for record in records:
        wanted.setdefault((record.channel, record.account), []).append(record.external_id)
    found: dict[tuple[str, str, str], int] = {}
    for (channel, account), external_ids in wanted.items():
        for start in range(0, len(external_ids), LOOKUP_CHUNK):
            chunk = external_ids[start:start + LOOKUP_CHUNK]
            rows = yield Select(
                'SELECT "external_id", "conversation_id" FROM "message" WHERE "channel" = ? AND "account" = ? '
                f'AND "external_id" IN ({marks(len(chunk))})', [channel, account, *chunk])
            found.update({(channel, account, external_id): conversation for external_id, conversation in rows})
    return found


def _identity_of(record: ImportRecord) -> IdentityKey:
    return (record.channel, record.account, record.user_id or f"imported-customer-{record.customer_id}")


def _customer_for(identity: IdentityKey) -> Plan[int]:
    customer_id, _ = yield from customer_for_identity(*identity)
    return customer_id


def _new_conversation(record: ImportRecord, customer_id: int) -> Plan[int]:
    """Imported conversations arrive closed; `imported_from` names the source store's id."""
    at = record.created_at
    columns, row = new_row(Conversation, {
        "customer_id": customer_id, "channel": record.channel, "account": record.account, "state": "closed",
        "opened_at": at, "closed_at": at, "last_message_at": at, "flags": {"imported_from": record.conversation_id},
    }, now())
    [conversation_id] = yield Insert("conversation", columns, [row])
    return conversation_id


def _close_at_last_message(touched: dict[int, tuple[datetime, int | None]]) -> Plan[None]:
    with_agent = [[last, last, agent, ident] for ident, (last, agent) in touched.items() if agent]
    without = [[last, last, ident] for ident, (last, agent) in touched.items() if not agent]
    yield ExecuteMany('UPDATE "conversation" SET "last_message_at" = ?, "closed_at" = ?, "agent_id" = ? '
                      'WHERE "id" = ?', with_agent)
    yield ExecuteMany('UPDATE "conversation" SET "last_message_at" = ?, "closed_at" = ? WHERE "id" = ?', without)


def worth_retrying(error: Exception) -> bool:
    """The store is busy with another writer (a running gateway), or that writer stored one of the
    page's messages between our check and our insert (PostgreSQL takes no write lock up front):
    the page again will wait, or see the message and skip it."""
    text = str(error).lower()
    return isinstance(error, IntegrityError) or any(word in text for word in ("locked", "busy", "deadlock"))


@dataclass
class Importer:
    """Runs the pages of a checked file through a writer of its own; counts what it did."""

    url: str
    imported: int = 0
    skipped: int = 0
    retries: int = 0
    conversations: dict[Any, int] = field(default_factory=dict)
    customers: dict[IdentityKey, int] = field(default_factory=dict)

    async def run(self, path: Path, *, allow_nul: bool, progress: Callable[[int], None] = lambda done: None) -> None:
        # tortoise types every values_list as tuples; flat=True gives the values themselves
        agents = frozenset(cast("list[int]", await Agent.all().values_list("id", flat=True)))
        writer = GroupCommitWriter(max_batch=1)
        writer.start(plan_runner(self.url))
        try:
            for done, records in read_pages(path, PAGE, allow_nul=allow_nul):
                job = PageJob(records, {r.conversation_id: self.conversations[r.conversation_id] for r in records
                                        if r.conversation_id in self.conversations},
                              {key: self.customers[key] for key in map(_identity_of, records) if key in self.customers},
                              agents)
                result = await self.commit(writer, job)
                self.imported += result.imported
                self.skipped += result.skipped
                self.conversations.update(result.conversations)
                self.customers.update(result.customers)
                progress(done)
        finally:
            await writer.close()

    async def commit(self, writer: GroupCommitWriter, job: PageJob) -> PageResult:
        """The page in one transaction; while the store is locked, the whole page again."""
        attempt = 1
        while True:
            try:
                return await writer.run_batched(import_pages_plan, job)
            except (OperationalError, IntegrityError) as error:
                if attempt >= LOCK_RETRIES or not worth_retrying(error):
                    raise
            self.retries += 1
            await self.wait_before_retry(attempt)
            attempt += 1

    async def wait_before_retry(self, attempt: int) -> None:
        await asyncio.sleep(LOCK_BACKOFF * attempt)

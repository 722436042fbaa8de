"""Sends the recorded deliveries: signed POSTs, retried by `policy.judge`, one instance per row.

Rows are taken with the core's leases (`LeasedRows`): on PostgreSQL each instance leases the
rows it sends, so one delivery is sent by one instance at a time, and a dead instance's rows are
taken over once its lease lapses. Only the oldest pending row of an (endpoint, ordering key) is
ever taken, so a conversation's later event waits until the earlier one was delivered or failed.
A send cut short by a stop or a crash leaves its row pending: it is sent again (at least once;
receivers dedupe on `X-Csgw-Delivery`).
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import structlog

from csgw.gateway.clock import now
from csgw.gateway.due_loop import DueLoop
from csgw.gateway.outbox_claims import LeasedRows
from csgw.gateway.redact import redact
from csgw.gateway.storage.plans import Plan, update

from .models import TABLE, WebhookDelivery
from .policy import Verdict, judge
from .signing import delivery_headers

if TYPE_CHECKING:
    from csgw.gateway.ports import Writes

    from .config import Endpoint

log = structlog.get_logger(__name__)

# Only a row no earlier pending row of its endpoint and ordering key precedes is due.
FIRST_OF_ITS_KEY = (
    f'NOT EXISTS (SELECT 1 FROM "{TABLE}" AS "earlier" WHERE "earlier"."endpoint" = "due"."endpoint" '
    'AND "earlier"."ordering_key" = "due"."ordering_key" AND "earlier"."state" = \'pending\' '
    'AND "earlier"."id" < "due"."id")')
POLL_SECONDS = 5.0  # at the longest between looks at the store (rows other instances recorded)
BATCH = 200
PARALLEL = 16  # deliveries under way at once
ERROR_BODY_BYTES = 300  # of a refusing receiver's answer, kept in the log


class WebhookSender(DueLoop):
    def __init__(self, writer: Writes, endpoints: Mapping[str, Endpoint], http: Callable[[], aiohttp.ClientSession | None],
                 *, shared: bool, lease_seconds: float, clock: Callable[[], datetime] = now,
                 rng: Callable[[], float] = random.random) -> None:
        super().__init__("csgw-webhooks")
        self.writer = writer
        self.endpoints = endpoints
        self.http = http
        self.clock = clock
        self.rng = rng
        self.claims = LeasedRows(writer, TABLE, shared=shared, lease_seconds=lease_seconds, ready=FIRST_OF_ITS_KEY)
        self._inflight: set[int] = set()
        self._parallel = asyncio.Semaphore(PARALLEL)

    async def run_pass(self) -> float:
        await self.claims.renew()
        return await self._dispatch_due()

    async def _dispatch_due(self) -> float:
        """Start sending what is due; seconds until the next pending row is."""
        at = self.clock()
        ids = [i for i in await self.claims.due_ids(at, BATCH) if i not in self._inflight]
        for row in await WebhookDelivery.filter(id__in=ids).order_by("id") if ids else []:
            # read again: an attempt that ended since the ids were read may have settled the row
            # (sent, or to wait for its Retry-After), and left the in-flight set just now
            if row.id in self._inflight or row.state != "pending" or row.next_attempt_at > at:
                continue
            self._inflight.add(row.id)
            self.spawn(self._deliver(row)).add_done_callback(functools.partial(self._finished, row.id))
        upcoming = await WebhookDelivery.filter(state="pending", next_attempt_at__gt=at).order_by(
            "next_attempt_at").first()
        if upcoming is None:
            return POLL_SECONDS
        return max(0.0, min(POLL_SECONDS, (upcoming.next_attempt_at - at).total_seconds()))

    def _finished(self, ident: int, _task: asyncio.Task[None]) -> None:
        self._inflight.discard(ident)
        self.wake()  # the next row of its key may be due now

    async def _deliver(self, row: WebhookDelivery) -> None:
        bound = log.bind(endpoint=row.endpoint, webhook_event=row.event, delivery_id=row.delivery_id,
                         ordering_key=row.ordering_key, attempt=row.attempts + 1)
        endpoint = self.endpoints.get(row.endpoint)
        try:
            async with self._parallel:
                if self.stopping:  # not begun: left pending for the next start (or instance)
                    await self.claims.release([row.id])
                    return
                if endpoint is None:
                    verdict = Verdict("failed", error="the endpoint is no longer configured")
                    status = None
                else:
                    status, verdict = await self._attempt(endpoint, row)
                await self.writer.run_plan(_settle_plan, row.id, verdict, status, row.attempts + 1, self.clock())
        except Exception as error:  # the store failed: the row stays pending and is tried again
            bound.warning("webhook delivery not settled", error=repr(error))
            await self.claims.release([row.id])
            return
        if verdict.state == "sent":
            bound.info("webhook delivered", status=status)
        elif verdict.state == "pending":
            bound.info("webhook delivery will be retried", status=status, error=verdict.error,
                       delay_seconds=round(verdict.delay or 0, 3))
        else:
            bound.warning("webhook delivery failed", status=status, error=verdict.error)

    async def _attempt(self, endpoint: Endpoint, row: WebhookDelivery) -> tuple[int | None, Verdict]:
        at = self.clock()
        body = row.body.encode("utf-8")
        headers = delivery_headers(endpoint.secret.get_secret_value(), event=row.event,
                                   delivery_id=row.delivery_id, timestamp=int(at.timestamp()), body=body,
                                   attempt=row.attempts + 1)
        status, error, retry_after = None, None, None
        http = self.http()
        if http is None:
            error = "the gateway is stopping"
        else:
            try:
                async with http.post(endpoint.url, data=body, headers=headers, allow_redirects=False,
                                     timeout=aiohttp.ClientTimeout(total=endpoint.timeout_seconds)) as response:
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
                    if status >= 300:
                        answer = await response.content.read(ERROR_BODY_BYTES)
                        error = f"HTTP {status}: {answer.decode('utf-8', 'replace').strip()}".rstrip(": ")
            except (aiohttp.ClientError, TimeoutError, OSError) as failure:
                error = f"{type(failure).__name__}: {failure}".rstrip(": ")
        age = (at - row.created_at).total_seconds()
        verdict = judge(endpoint, status=status, error=redact(error) if error else None, retry_after=retry_after,
                        attempts=row.attempts + 1, age_seconds=age, at=at, rng=self.rng)
        return status, verdict


def _settle_plan(row_id: int, verdict: Verdict, status: int | None, attempts: int, at: datetime) -> Plan[None]:
    """The attempt's outcome, on a row still pending (another instance may have settled it after
    this one's lease lapsed); the lease is handed back either way."""
    values: dict[str, Any] = {"state": verdict.state, "attempts": attempts, "last_status": status,
                              "last_error": verdict.error[:2000] if verdict.error else None, "updated_at": at,
                              "claimed_by": None, "claimed_until": None}
    if verdict.state == "sent":
        values["delivered_at"] = at
    if verdict.state == "pending":
        values["next_attempt_at"] = at + timedelta(seconds=verdict.delay or 0)
    yield update(TABLE, values, '"id" = ? AND "state" = ?', [row_id, "pending"])

"""The `webhooks` health check: degraded while an endpoint has a delivery pending too long, or
one failed for good within `[health] traffic_window_seconds`. Never down: a shop's CRM being
away must not take the gateway out of its load balancer. Endpoints are named by their label
(no query string, no secret); errors pass through `redact`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from csgw.gateway.clock import now
from csgw.gateway.health_check import CheckResult
from csgw.gateway.redact import redact

from .config import Endpoint
from .models import WebhookDelivery


class DeliveryCheck:
    name = "webhooks"

    def __init__(self, endpoints: Sequence[Endpoint], window_seconds: float,
                 clock: Callable[[], datetime] = now) -> None:
        self.endpoints = endpoints
        self.window = timedelta(seconds=window_seconds)
        self.clock = clock

    async def run(self) -> CheckResult:
        at = self.clock()
        details = [await self._endpoint(endpoint, at) for endpoint in self.endpoints]
        status = "degraded" if any(d["status"] != "ok" for d in details) else "ok"
        return CheckResult(self.name, status, sum(d["pending"] for d in details),
                           {"failed_in_window": 1, "window_seconds": self.window.total_seconds()},
                           {"endpoints": details})

    async def _endpoint(self, endpoint: Endpoint, at: datetime) -> dict[str, Any]:
        rows = WebhookDelivery.filter(endpoint=endpoint.label)
        pending = await rows.filter(state="pending").count()
        oldest = await rows.filter(state="pending").order_by("id").first()
        failed = await rows.filter(state="failed", updated_at__gte=at - self.window).count()
        last = await rows.filter(last_error__isnull=False).order_by("-updated_at").first()
        age = round((at - oldest.created_at).total_seconds(), 1) if oldest else None
        late = age is not None and age >= endpoint.backlog_degraded_seconds
        return {"name": endpoint.label, "status": "degraded" if late or failed else "ok",
                "pending": pending, "oldest_pending_seconds": age,
                "backlog_degraded_seconds": endpoint.backlog_degraded_seconds,
                "failed_in_window": failed,
                "last_error": redact(last.last_error) if last and last.last_error else None}

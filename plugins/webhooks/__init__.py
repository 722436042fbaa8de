"""The builtin `webhooks` plugin: gateway events POSTed, signed, to the shop's own systems.

`[[webhooks]]` entries name a URL, the events it wants and the secret that signs them
(docs/webhooks.md). Events become delivery rows in the store (`recorder`), which one instance
sends with retries (`sender`); supervisors read the log at `GET /api/v1/webhooks/deliveries`, and
`/healthz` has a `webhooks` check.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import structlog

from csgw.gateway.clock import now
from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.storage.plans import ExecuteMany, Plan

from .config import WebhooksConfig
from .health import DeliveryCheck
from .models import TABLE

if TYPE_CHECKING:
    from aiohttp import web
    from pydantic import BaseModel

    from csgw.gateway.api.routes import ApiRoute
    from csgw.gateway.health_check import HealthCheck
    from csgw.gateway.ports import Gateway, Writes

    from .recorder import DeliveryRecorder
    from .sender import WebhookSender

log = structlog.get_logger(__name__)

SECTION = "webhooks"
KEEP_DAYS = 7  # sent and failed deliveries stay in the log this long
RETENTION_SECONDS = 3600.0


@dataclass
class Webhooks:
    """What runs for one gateway (a test process may run several)."""

    recorder: DeliveryRecorder
    sender: WebhookSender


RUNNING: WeakKeyDictionary[object, Webhooks] = WeakKeyDictionary()


def running(services: object) -> Webhooks | None:
    return RUNNING.get(services)


@hookimpl
def csgw_config_sections() -> dict[str, type[BaseModel]]:
    return {SECTION: WebhooksConfig}


@hookimpl
def csgw_models() -> list[str]:
    return [f"{__name__}.models"]


@hookimpl
def csgw_startup(services: Gateway) -> None:
    endpoints = services.settings.section(SECTION, WebhooksConfig).root
    if not endpoints:
        return
    # Here, not at the top: only a gateway with endpoints needs the sender and its HTTP client.
    from .recorder import DeliveryRecorder
    from .sender import WebhookSender

    sender = WebhookSender(services.writer, {e.label: e for e in endpoints}, lambda: services.http,
                           shared=services.leadership.shared,
                           lease_seconds=services.settings.database.outbox_lease_seconds)
    recorder = DeliveryRecorder(services.writer, endpoints, sender.wake)
    services.events.observe(recorder.observe)
    sender.start()
    services.timers.every("webhooks-retention", lambda: forget_old(services.writer), RETENTION_SECONDS)
    RUNNING[services] = Webhooks(recorder, sender)
    log.info("webhooks on", endpoints=[e.label for e in endpoints])


@hookimpl
def csgw_shutdown(services: Gateway) -> Awaitable[None] | None:
    # Events of the drain that follows are still recorded (the observer stays); sent next start.
    webhooks = running(services)
    return webhooks.sender.stop() if webhooks is not None else None


@hookimpl
def csgw_health_checks(services: Gateway) -> list[HealthCheck]:
    endpoints = services.settings.section(SECTION, WebhooksConfig).root
    if not endpoints:
        return []
    return [DeliveryCheck(endpoints, services.settings.health.traffic_window_seconds)]


@hookimpl
def csgw_routes(services: Gateway) -> list[web.AbstractRouteDef | ApiRoute]:
    from . import api  # the agent API's handlers: only a gateway building its app needs them

    return list(api.routes)


async def forget_old(writer: Writes) -> None:
    await writer.run_plan(_forget_plan, now() - timedelta(days=KEEP_DAYS))


def _forget_plan(before: object) -> Plan[None]:
    yield ExecuteMany(f'DELETE FROM "{TABLE}" WHERE "state" <> ? AND "updated_at" < ?', [["pending", before]])

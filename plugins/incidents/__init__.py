"""The builtin `incidents` plugin: spikes become incidents.

When `[incidents] min_customers` distinct customers ask about one thing within `window_minutes`
(one KB entry answered, one cluster of questions the bot could not answer, one escalation lane),
an incident opens: `incident.opened` on the event bus (agents' console, webhooks), its count and
example questions at `GET /api/v1/incidents`. A supervisor's broadcast answer then answers every
further asker, and optionally those already waiting; the incident closes by hand or when nobody
new asked for `close_after_quiet_minutes`. The service report counts incidents.

The desk and the API (and their text clustering) are imported by the hooks of a running gateway,
not by every command that loads plugins to read the config.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from csgw.gateway.hookspecs import hookimpl

from .config import IncidentsConfig
from .models import MODULES
from .registry import RUNNING, running
from .report import IncidentFigures

if TYPE_CHECKING:
    from aiohttp import web
    from pydantic import BaseModel

    from csgw.config.schema import Settings
    from csgw.gateway.answers import ReplyOverride
    from csgw.gateway.api.routes import ApiRoute
    from csgw.gateway.ports import Gateway
    from csgw.gateway.report_sections import ReportSection

SECTION = "incidents"


@hookimpl
def csgw_config_sections() -> dict[str, type[BaseModel]]:
    return {SECTION: IncidentsConfig}


@hookimpl
def csgw_models() -> list[str]:
    return MODULES


@hookimpl
def csgw_reply_overrides(services: Gateway) -> list[ReplyOverride]:
    from .desk import IncidentDesk

    desk = IncidentDesk(services, services.settings.section(SECTION, IncidentsConfig))
    RUNNING[services] = desk
    return [desk]


@hookimpl
def csgw_startup(services: Gateway) -> None:
    desk = running(services)
    if desk is not None:  # quiet incidents close even while counting is off
        services.timers.every("incidents", desk.close_quiet, desk.config.check_seconds)


@hookimpl
def csgw_shutdown(services: Gateway) -> Awaitable[None] | None:
    desk = running(services)
    return desk.stop() if desk is not None else None


@hookimpl
def csgw_routes(services: Gateway) -> list[web.AbstractRouteDef | ApiRoute]:
    from . import api

    return list(api.routes)


@hookimpl
def csgw_report_sections(settings: Settings) -> list[ReportSection]:
    return [IncidentFigures()]

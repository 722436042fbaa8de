"""Agent API: service figures over a time range."""

from __future__ import annotations

from aiohttp import web

from csgw.gateway.api.auth import authenticate, require_supervisor
from csgw.gateway.api.context import services_of
from csgw.gateway.api.errors import ApiError
from csgw.gateway.api.routes import ApiRoutes, Param
from csgw.gateway.reports import (
    BREAKDOWNS,
    RangeError,
    breakdowns_for,
    report_range,
    service_report,
)

routes = ApiRoutes()


@routes.route("GET", "/reports", "Service figures: response and handling times, resolution and reopening, bot "
              "containment, satisfaction with the latest comments, SLA misses; in total, a trend per day in the "
              "shop's time zone, and per agent, channel account and group, or only the breakdown `by` names "
              "(category: per KB category, with the questions the bot left unanswered; tag: per tag). "
              "Supervisors only: it holds customers' comments and every agent's figures",
              query=("since", "until", Param.of("by", type="string", enum=list(BREAKDOWNS))))
async def reports(request: web.Request) -> web.Response:
    require_supervisor(await authenticate(request), "read the reports")
    by = request.query.get("by")
    try:
        breakdowns_for(by)
    except RangeError as error:
        raise ApiError(400, "bad_by", str(error)) from None
    try:
        span = report_range(request.query.get("since"), request.query.get("until"), services_of(request).settings)
    except RangeError as error:
        raise ApiError(422, "bad_range", str(error)) from None
    services = services_of(request)
    sections = services.host.report_sections(services.settings)
    return web.json_response(await service_report(span, by, sections=sections))

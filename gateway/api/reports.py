"""Agent API: service figures over a time range."""

from __future__ import annotations

from aiohttp import web

from csgw.gateway.api.auth import authenticate
from csgw.gateway.api.context import services_of
from csgw.gateway.api.errors import ApiError
from csgw.gateway.api.routes import ApiRoutes
from csgw.gateway.reports import RangeError, report_range, service_report

routes = ApiRoutes()


@routes.route("GET", "/reports", "Service figures: response and handling times, resolution, bot containment, "
              "satisfaction, SLA misses; in total and per agent, channel account and group",
              query=("since", "until"))
async def reports(request: web.Request) -> web.Response:
    await authenticate(request)
    try:
        span = report_range(request.query.get("since"), request.query.get("until"), services_of(request).settings)
    except RangeError as error:
        raise ApiError(422, "bad_range", str(error)) from None
    return web.json_response(await service_report(span))

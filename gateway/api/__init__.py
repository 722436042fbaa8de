"""The agent API under `/api/v1`: routes from every module, and the OpenAPI document."""

from __future__ import annotations

from aiohttp import web

from csgw.gateway.api.openapi import openapi_document
from csgw.gateway.api.routes import ApiRoute, serving

PREFIX = "/api/v1"


def api_routes() -> list[ApiRoute]:
    # Imported here, so that plugins importing `csgw.gateway.api.routes` or `.errors` (through
    # `csgw.api`) do not load every handler and the whole gateway with them.
    from csgw.gateway.api import (
        agents,
        conversations,
        customers,
        events,
        notes,
        reports,
        signin,
        tags,
    )

    return [*agents.routes, *signin.routes, *conversations.routes, *notes.routes, *tags.routes,
            *customers.routes, *events.routes, *reports.routes]


def add_api(app: web.Application, extra: list[ApiRoute] | None = None) -> None:
    routes = api_routes() + (extra or [])
    for route in routes:
        app.router.add_route(route.method, PREFIX + route.path, serving(route))
    document = openapi_document(routes, PREFIX)

    async def openapi(request: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get(PREFIX + "/openapi.json", openapi)

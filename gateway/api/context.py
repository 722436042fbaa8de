"""Where API handlers find the running gateway."""

from __future__ import annotations

from aiohttp import web

from csgw.gateway.services import GatewayServices

SERVICES = web.AppKey("services", GatewayServices)


def services_of(request: web.Request) -> GatewayServices:
    return request.app[SERVICES]

"""Where API handlers find the running gateway.

The services class is named for the type checker only, so importing the API helpers (as
`csgw.api` does for plugins) does not load the whole gateway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from csgw.gateway.services import GatewayServices

SERVICES: web.AppKey[GatewayServices] = web.AppKey("services")


def services_of(request: web.Request) -> GatewayServices:
    return request.app[SERVICES]

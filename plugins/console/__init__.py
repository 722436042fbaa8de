"""The builtin agent console: static pages at `/console/` over the agent API. Its routes (and
aiohttp with them) are imported when a gateway builds its app, not by every command loading plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from csgw.gateway.hookspecs import hookimpl

if TYPE_CHECKING:
    from aiohttp import web

    from csgw.gateway.ports import Gateway


@hookimpl
def csgw_routes(services: Gateway) -> list[web.AbstractRouteDef]:
    from csgw.plugins.console.routes import console_routes

    return console_routes(services)

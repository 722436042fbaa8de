"""Serves the console's static files; the page itself talks only to `/api/v1`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from csgw.gateway.ports import Gateway

STATIC = Path(__file__).parent / "static"
ASSET_NAME = re.compile(r"^[a-z0-9_-]+\.(?:js|css|svg|png)$")
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}
# The console only loads its own files and talks to its own origin.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: https: http:; "
                               "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _file(path: Path, content_type: str) -> web.StreamResponse:
    if not path.is_file():
        raise web.HTTPNotFound(text="not found")
    response = web.FileResponse(path, headers=SECURITY_HEADERS)
    response.content_type = content_type
    # Short cache: a gateway upgrade must reach agents without a hard refresh.
    response.headers["Cache-Control"] = "no-cache"
    return response


async def index(request: web.Request) -> web.StreamResponse:
    return _file(STATIC / "index.html", "text/html")


async def asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if not ASSET_NAME.match(name):
        raise web.HTTPNotFound(text="not found")
    return _file(STATIC / name, CONTENT_TYPES[Path(name).suffix])


async def bare(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


def console_routes(services: Gateway) -> list[web.AbstractRouteDef]:
    return [web.get("/console", bare), web.get("/console/", index), web.get("/console/{name}", asset)]

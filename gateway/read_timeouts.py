"""Slow clients cannot hold connections: a request's head and its body must arrive in time.

The head: aiohttp closes a connection whose next request has not fully arrived within its
keep-alive timeout, counted from the connection's start or the previous response; csgw sets it
to `[server] header_timeout_seconds` (so an idle keep-alive connection closes after that too).
The body: once the head is in, the body has `[server] body_timeout_seconds`; a handler still
waiting for it then sees `BodyTimeout`, and the client gets 408 and a closed connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

log = structlog.get_logger(__name__)


class BodyTimeout(TimeoutError):
    """The request body did not arrive within the body timeout. A TimeoutError, so aiohttp's
    own read of the rest after the response ends quietly and closes the connection."""


def handler_args(header_timeout: float) -> dict[str, Any]:
    """Arguments for aiohttp's protocol handler (`web.Application(handler_args=…)`)."""
    return {"keepalive_timeout": header_timeout}


def body_timeout(seconds: float) -> Any:
    """Middleware: a request whose body is still arriving after `seconds` is answered 408."""

    @web.middleware
    async def slow_body(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.content.is_eof():  # no body, or all of it arrived with the head
            return await handler(request)
        timer = asyncio.get_running_loop().call_later(seconds, _too_slow, request, seconds)
        try:
            return await handler(request)
        except BodyTimeout:
            response = web.json_response(
                {"error": {"code": "request_timeout",
                           "message": f"the request body did not arrive within {seconds:g} s"}},
                status=408)
            response.force_close()
            return response
        finally:
            timer.cancel()

    return slow_body


def _too_slow(request: web.Request, seconds: float) -> None:
    if request.content.is_eof():
        return
    log.info("request body too slow, refused", path=request.path, remote=request.remote, seconds=seconds)
    request.content.set_exception(BodyTimeout(f"request body not complete within {seconds:g} s"))

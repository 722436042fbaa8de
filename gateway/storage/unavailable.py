"""A store that cannot write (locked, full, unreachable) refuses inbound with 503 + Retry-After.

Platforms retry a 503, so a message that could not be made durable is never acknowledged and
lost; the `store_writes` health check is down while inbound writes are being refused.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from tortoise.exceptions import DBConnectionError, OperationalError

from csgw.gateway.health_check import CheckResult
from csgw.gateway.storage.writer import WriterClosed

log = structlog.get_logger(__name__)

STORE_UNAVAILABLE = (OperationalError, DBConnectionError, WriterClosed)
RETRY_AFTER_SECONDS = "5"


class StoreWrites:
    """Inbound writes refused recently; down until one succeeds again (or the window passes)."""

    name = "store_writes"

    def __init__(self, window_seconds: float = 60, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_seconds = window_seconds
        self.clock = clock
        self._refused: deque[float] = deque()
        self._failing = False

    def refused(self) -> None:
        self._refused.append(self.clock())
        self._failing = True

    def stored(self) -> None:
        self._failing = False

    async def run(self) -> CheckResult:
        cutoff = self.clock() - self.window_seconds
        while self._refused and self._refused[0] < cutoff:
            self._refused.popleft()
        down = self._failing and bool(self._refused)
        return CheckResult(self.name, "down" if down else "ok", len(self._refused), {"down": "last write refused"},
                           {"window_seconds": self.window_seconds})


@web.middleware
async def store_unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except STORE_UNAVAILABLE as error:
        log.warning("store unavailable, request refused", path=request.path, error=str(error))
        if request.path.startswith("/api/"):
            # the agent API's error shape (gateway.api.errors would import the whole API here)
            response = web.json_response({"error": {"code": "unavailable",
                                                    "message": "the store cannot write now; retry later"}},
                                         status=503)
        else:
            response = web.Response(status=503, text="temporarily unavailable, retry later")
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response

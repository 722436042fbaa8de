"""Builtin alerting: POST each health state change as JSON to `[health] notify_url`."""

from __future__ import annotations

import socket
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import structlog

from csgw.gateway.clock import now
from csgw.gateway.hookspecs import hookimpl

if TYPE_CHECKING:
    import aiohttp

    from csgw.gateway.ports import Gateway

log = structlog.get_logger(__name__)

SUMMARY = {"ok": "恢复正常 / back to normal", "degraded": "降级 / degraded", "down": "故障 / down"}


def payload(check: str, old: str, new: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {"event": "health.changed", "check": check, "old": old, "new": new,
            "text": f"csgw {socket.gethostname()}: {check} {SUMMARY.get(new, new)} (was {old})",
            "host": socket.gethostname(), "at": now().isoformat(), "detail": detail}


async def post(http: aiohttp.ClientSession, timeout_seconds: float, url: str, body: dict[str, Any]) -> None:
    import aiohttp  # here: loading plugins (every `csgw` command) does not need the HTTP client

    timeout = aiohttp.ClientTimeout(total=timeout_seconds)
    bound = log.bind(check=body["check"], new=body["new"], url=url)
    try:
        async with http.post(url, json=body, timeout=timeout) as response:
            if response.status >= 400:
                bound.warning("health notification refused", status=response.status)
    except (TimeoutError, aiohttp.ClientError) as error:
        bound.warning("health notification failed", error=repr(error))


@hookimpl
def csgw_health_changed(services: Gateway, check: str, old: str, new: str,
                        detail: dict[str, Any]) -> Awaitable[None] | None:
    url = services.settings.health.notify_url
    if not url or services.http is None:
        return None
    return post(services.http, services.settings.health.notify_timeout_seconds, url,
                payload(check, old, new, detail))

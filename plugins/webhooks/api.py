"""The delivery log: `GET /api/v1/webhooks/deliveries`, newest first, for supervisors."""

from __future__ import annotations

import difflib
import json

from aiohttp import web

from csgw.gateway.api.auth import authenticate, require_supervisor
from csgw.gateway.api.errors import ApiError, parse_id
from csgw.gateway.api.routes import ApiRoutes, Param
from csgw.gateway.redact import redact
from csgw.gateway.views import iso

from .config import EVENTS
from .models import STATES, WebhookDelivery

routes = ApiRoutes()
PAGE_SIZE = 50
MAX_PAGE = 500


def delivery_view(row: WebhookDelivery) -> dict:
    """A delivery as the log shows it: never a secret or a signature; the endpoint by its label."""
    body = json.loads(row.body)
    return {
        "id": row.delivery_id,
        "sequence": row.id,
        "endpoint": redact(row.endpoint),
        "event": row.event,
        "status": row.state,
        "attempts": row.attempts,
        "last_status": row.last_status,
        "last_error": redact(row.last_error) if row.last_error else None,
        "created_at": iso(row.created_at),
        "next_attempt_at": iso(row.next_attempt_at) if row.state == "pending" else None,
        "delivered_at": iso(row.delivered_at),
        "data": body.get("data", {}),
    }


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value in allowed:
        return value
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ApiError(422, "bad_field", f"{name} is one of {', '.join(allowed)}{hint}")


@routes.route("GET", "/webhooks/deliveries", "Outbound webhook deliveries, newest first (supervisors)",
              query=(Param.of("status", type="string", enum=list(STATES)),
                     Param.of("event", type="string", enum=list(EVENTS)), "endpoint",
                     Param.of("limit", type="integer", minimum=1, maximum=MAX_PAGE),
                     Param.of("cursor", type="string")))
async def list_deliveries(request: web.Request) -> web.Response:
    require_supervisor(await authenticate(request), "read the webhook delivery log")
    query = WebhookDelivery.all()
    if status := request.query.get("status"):
        query = query.filter(state=_one_of("status", status, STATES))
    if event := request.query.get("event"):
        query = query.filter(event=_one_of("event", event, EVENTS))
    if endpoint := request.query.get("endpoint"):
        query = query.filter(endpoint=endpoint)
    if cursor := request.query.get("cursor"):
        before = parse_id(cursor)
        if before is None:
            raise ApiError(400, "bad_cursor", "the cursor is not valid")
        query = query.filter(id__lt=before)
    limit = parse_id(request.query.get("limit", str(PAGE_SIZE)))
    if limit is None:
        raise ApiError(400, "bad_limit", "limit is a number")
    limit = max(1, min(MAX_PAGE, limit))
    page = await query.order_by("-id").limit(limit + 1)
    items = [delivery_view(row) for row in page[:limit]]
    next_cursor = str(page[limit - 1].id) if len(page) > limit else None
    return web.json_response({"items": items, "next_cursor": next_cursor})

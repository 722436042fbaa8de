"""Agent API for incidents: every agent lists them (open first); supervisors publish a broadcast
answer and close them."""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web
from tortoise.expressions import Q

from csgw.gateway.api.auth import authenticate, require_supervisor
from csgw.gateway.api.context import services_of
from csgw.gateway.api.errors import ApiError, parse_id, read_json
from csgw.gateway.api.routes import ApiRoutes, Param

from .desk import IncidentDesk
from .models import Incident
from .registry import running
from .views import incident_view

log = structlog.get_logger(__name__)
routes = ApiRoutes()
MAX_BROADCAST = 1000  # characters: a customer reads it on a phone
STATES = ("open", "closed", "all")
PAGE = 50
BROADCAST = {
    "type": "object", "required": ["text"], "additionalProperties": False,
    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": MAX_BROADCAST},
                   "notify_waiting": {"type": "boolean", "default": False}},
}


def _desk(request: web.Request) -> IncidentDesk:
    desk = running(services_of(request))
    if desk is None:  # the gateway is starting or stopping
        raise ApiError(503, "unavailable", "incidents are not running")
    return desk


async def _incident_or_404(request: web.Request) -> Incident:
    ident = parse_id(request.match_info["id"])
    row = await Incident.get_or_none(id=ident) if ident is not None else None
    if row is None:
        raise ApiError(404, "not_found", "no such incident")
    return row


def broadcast_text(body: dict[str, Any]) -> tuple[str, bool]:
    """The broadcast's text and whether to notify the waiting, or a 400 saying what is wrong."""
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "bad_text", "text is the broadcast answer: a non-empty string")
    text = text.strip()
    if len(text) > MAX_BROADCAST:
        raise ApiError(400, "bad_text", f"text is at most {MAX_BROADCAST} characters")
    if any(ord(char) < 32 and char not in "\n\r\t" for char in text):
        raise ApiError(400, "bad_text", "text has control characters")
    notify = body.get("notify_waiting", False)
    if not isinstance(notify, bool):
        raise ApiError(400, "bad_notify_waiting", "notify_waiting is true or false")
    unknown = sorted(set(body) - {"text", "notify_waiting"})
    if unknown:
        raise ApiError(400, "unknown_field", f"unknown field {', '.join(unknown)} (fields: text, notify_waiting)")
    return text, notify


@routes.route("GET", "/incidents", "Incidents (many customers asking about one thing at once): open ones "
              "first, then the latest closed; each with its count of customers and a few of their questions",
              query=(Param.of("state", type="string", enum=list(STATES)),
                     Param.of("limit", type="integer", minimum=1, maximum=200)))
async def list_incidents(request: web.Request) -> web.Response:
    await authenticate(request)
    state = request.query.get("state", "all")
    if state not in STATES:
        raise ApiError(400, "bad_state", f"state is one of {', '.join(STATES)}")
    limit = parse_id(request.query.get("limit", str(PAGE)))
    if limit is None or not 1 <= limit <= 200:
        raise ApiError(400, "bad_limit", "limit is a number from 1 to 200")
    rows: list[Incident] = []
    if state in ("open", "all"):
        rows += await Incident.filter(closed_at__isnull=True).order_by("-opened_at", "-id").limit(limit)
    if state in ("closed", "all") and len(rows) < limit:
        rows += await Incident.filter(Q(closed_at__isnull=False)).order_by("-closed_at", "-id") \
            .limit(limit - len(rows))
    return web.json_response({"items": [incident_view(row) for row in rows]})


@routes.route("POST", "/incidents/{id}/broadcast", "Publish an incident's broadcast answer (supervisors): every "
              "further customer asking about it gets this text until the incident closes; `notify_waiting` "
              "also sends it, once, to the customers counted in it whose conversations are still open",
              body=BROADCAST)
async def broadcast(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    require_supervisor(agent, "publish an incident's broadcast")
    row = await _incident_or_404(request)
    text, notify = broadcast_text(await read_json(request))
    outcome, notified = await _desk(request).broadcast(row.id, text, notify_waiting=notify, agent_id=agent.id)
    if outcome == "missing":
        raise ApiError(404, "not_found", "no such incident")
    if outcome == "closed":
        raise ApiError(409, "incident_closed", "the incident is closed: its broadcast is over")
    log.info("incident broadcast published", incident_id=row.id, agent=agent.name, notified=len(notified))
    fresh = await Incident.get(id=row.id)
    return web.json_response({"incident": incident_view(fresh), "notified": len(notified)})


@routes.route("POST", "/incidents/{id}/close", "Close an incident by hand (supervisors); its broadcast stops")
async def close(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    require_supervisor(agent, "close an incident")
    row = await _incident_or_404(request)
    if not await _desk(request).close(row.id, agent.id):
        raise ApiError(409, "incident_closed", "the incident is closed already")
    return web.json_response(incident_view(await Incident.get(id=row.id)))

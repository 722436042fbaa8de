"""Agent API: signing in to the console with a one-time login link (or an API token) for a
session, signing out, and a supervisor's login links for agents (`gateway/sessions.py`)."""

from __future__ import annotations

import hmac
from typing import Any

import structlog
from aiohttp import web

from csgw.gateway.api.auth import CREDENTIAL, authenticate, hash_token, require_supervisor
from csgw.gateway.api.context import services_of
from csgw.gateway.api.errors import ApiError, field, parse_id, read_json
from csgw.gateway.api.routes import ApiRoutes, check_query
from csgw.gateway.clock import now
from csgw.gateway.limits import IP_LIMITS
from csgw.gateway.models import Agent
from csgw.gateway.sessions import (
    LINK_MINUTES,
    MAX_LINK_MINUTES,
    console_link,
    end_session,
    new_login_link,
    new_session_token,
    open_session,
    redeem_code,
    status_at_sign_in,
    store_login_link,
    why_refused,
)
from csgw.gateway.storage.plans import update_row
from csgw.gateway.views import agent_view, iso

log = structlog.get_logger(__name__)
routes = ApiRoutes()

SECRET = {"type": "string", "minLength": 1, "maxLength": 128}
REFUSED = {
    "bad_code": "the login link is not valid: ask for a new one",
    "code_used": "the login link was used already (each works once): ask for a new one",
    "code_expired": "the login link has expired: ask for a new one",
}


@routes.route("POST", "/login", "Sign in to the console (no bearer token): the code of a one-time login link, "
              "or an API token, for a session token; the agent goes online unless they last chose away or "
              "offline. Limited per address ([server.rate_limits] login_per_minute)",
              body={"type": "object", "properties": {"code": SECRET, "token": SECRET}}, public=True)
async def login(request: web.Request) -> web.Response:
    limits = request.app[IP_LIMITS]
    if not await limits.admits_request("login", request):
        raise ApiError(429, "rate_limited", "too many sign-in attempts from this address: try again in a minute")
    check_query(request)
    body = await read_json(request)
    unknown = set(body) - {"code", "token"}
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field(s): {', '.join(sorted(unknown))}")
    code = field(body, "code", str, required=False, max_length=128) or None  # "" names nothing either
    token = field(body, "token", str, required=False, max_length=128) or None
    if code is not None and token is not None:
        raise ApiError(422, "bad_field", "give code (from a login link) or token (an API token), not both")
    session_token, ip = new_session_token(), limits.client_ip(request)
    if code is not None:
        agent = await _redeem(request, code, session_token, ip)
    elif token is not None:
        agent = await _open_with_token(request, token, session_token, ip)
    else:
        raise ApiError(422, "missing_field", "give code (from a login link) or token (an API token)")
    view = await signed_in(request, agent)
    log.info("agent signed in", agent=agent.name, via="link" if code is not None else "token", status=view["status"])
    return web.json_response({"token": session_token, "agent": view})


async def _redeem(request: web.Request, code: str, session_token: str, ip: str) -> Agent:
    at = now()
    agent_id = await services_of(request).writer.run_plan(redeem_code, code, session_token, at)
    agent = await Agent.get_or_none(id=agent_id) if agent_id is not None else None
    if agent is None:
        reason = await why_refused(code, at)
        log.warning("sign-in with a login link refused", reason=reason, ip=ip)
        raise ApiError(401, reason, REFUSED[reason])
    return agent


async def _open_with_token(request: web.Request, token: str, session_token: str, ip: str) -> Agent:
    token_hash = hash_token(token)
    agent = await Agent.get_or_none(token_hash=token_hash)
    if agent is None or not hmac.compare_digest(agent.token_hash or "", token_hash):
        log.warning("sign-in with a token refused", ip=ip)
        raise ApiError(401, "unauthorized", "the token is not valid")
    await services_of(request).writer.run_plan(open_session, agent.id, session_token, "token", now())
    return agent


async def signed_in(request: web.Request, agent: Agent) -> dict[str, Any]:
    """A sign-in counts as the agent being at the desk: online, unless they last chose away or
    offline (then that, as a choice: presence does not bring them back by itself)."""
    services = services_of(request)
    agent.last_seen_at = now()  # before going online: the away timer must not find them quiet
    await services.writer.run_plan(update_row, "agent", agent.id, {"last_seen_at": agent.last_seen_at})
    status = status_at_sign_in(agent)
    if agent.status != status or agent.auto_away_since is not None:
        return await services.conversations.set_agent_status(
            agent, status, reason="signed in" if status == "online" else "agent")
    loads = await services.conversations.agent_loads()
    return agent_view(agent, loads.get(agent.id, 0))


@routes.route("POST", "/logout", "Sign out: end the console session the request came with (an API token "
              "is no session: `csgw agents token NAME` replaces it)", status=204)
async def logout(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    session_id = request[CREDENTIAL].session_id
    if session_id is None:
        raise ApiError(400, "not_a_session", "an API token is not a session: `csgw agents token NAME` replaces it")
    await services_of(request).writer.run_plan(end_session, session_id)
    log.info("agent signed out", agent=agent.name)
    return web.Response(status=204)


@routes.route("POST", "/agents/{id}/login-link", "A one-time login link to the console for an agent "
              "(a supervisor's): used once, within `minutes` (default 15, at most 1440)", status=201,
              body={"type": "object", "properties": {
                  "minutes": {"type": "integer", "minimum": 1, "maximum": MAX_LINK_MINUTES}}})
async def login_link(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    require_supervisor(caller, "make login links")
    agent_id = parse_id(request.match_info["id"])
    agent = await Agent.get_or_none(id=agent_id) if agent_id is not None else None
    if agent is None:
        raise ApiError(404, "not_found", "no such agent")
    body = await read_json(request) if request.can_read_body else {}
    unknown = set(body) - {"minutes"}
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field(s): {', '.join(sorted(unknown))}")
    minutes = field(body, "minutes", int, required=False)
    if minutes is None:
        minutes = LINK_MINUTES
    if not 1 <= minutes <= MAX_LINK_MINUTES:
        raise ApiError(422, "bad_field", f"minutes is from 1 to {MAX_LINK_MINUTES}")
    link = new_login_link(minutes)
    await services_of(request).writer.run_plan(store_login_link, agent.id, link, caller.id)
    log.info("login link made", agent=agent.name, by=caller.name, minutes=minutes)
    return web.json_response({"agent_id": agent.id, "url": console_link(_origin(request), link.code),
                              "code": link.code, "expires_at": iso(link.expires_at)}, status=201)


def _origin(request: web.Request) -> str:
    """Where the caller reached the gateway (behind a TLS proxy: https)."""
    scheme = "https" if services_of(request).settings.server.behind_tls_proxy else request.scheme
    return f"{scheme}://{request.host}"

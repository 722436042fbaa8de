"""Agent API: the calling agent, its status and heartbeat, and the team."""

from __future__ import annotations

from aiohttp import web

from csgw.gateway.api.auth import authenticate, is_supervisor
from csgw.gateway.api.context import services_of
from csgw.gateway.api.errors import ApiError, field, parse_id, read_json
from csgw.gateway.api.routes import ApiRoutes
from csgw.gateway.clock import shop_zone_name
from csgw.gateway.models import AGENT_STATUSES, Agent
from csgw.gateway.storage.plans import update_row
from csgw.gateway.views import agent_view

routes = ApiRoutes()


async def active_agent(request: web.Request) -> Agent:
    """The calling agent, as presence plugins left them (back online after an automatic away)."""
    agent = await authenticate(request)  # authenticating records last_seen_at
    services = services_of(request)
    await services.host.agent_seen(services, agent)
    return agent


@routes.route("GET", "/me", "The calling agent, and the shop's time zone (`timezone`: an IANA name or an "
              "offset such as +08:00) for showing times")
async def me(request: web.Request) -> web.Response:
    agent = await active_agent(request)
    services = services_of(request)
    loads = await services.conversations.agent_loads()
    return web.json_response({**agent_view(agent, loads.get(agent.id, 0)),
                              "timezone": shop_zone_name(services.settings.server.timezone)})


@routes.route("PUT", "/me/status", "Set the calling agent's status (remembered: a sign-in goes online unless "
              "the last one chosen is away or offline)",
              body={"type": "object", "required": ["status"],
                    "properties": {"status": {"type": "string", "enum": list(AGENT_STATUSES)}}})
async def set_status(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    status = field(await read_json(request), "status", str)
    if status not in AGENT_STATUSES:
        raise ApiError(422, "bad_status", f"status is one of {', '.join(AGENT_STATUSES)}")
    services = services_of(request)
    await services.writer.run_plan(update_row, "agent", agent.id, {"chosen_status": status})
    view = await services.conversations.set_agent_status(agent, status)
    return web.json_response(view)


@routes.route("POST", "/me/heartbeat", "Tell the gateway the agent is still at the desk (keeps online from going "
              "away; brings back an agent set away for inactivity)")
async def heartbeat(request: web.Request) -> web.Response:
    agent = await active_agent(request)
    loads = await services_of(request).conversations.agent_loads()
    return web.json_response(agent_view(agent, loads.get(agent.id, 0)))


@routes.route("GET", "/agents", "Agents with status, skills, load and capacity",
              links=(("patch_agent", "$response.body#/items/0/id"),))
async def list_agents(request: web.Request) -> web.Response:
    await authenticate(request)
    loads = await services_of(request).conversations.agent_loads()
    agents = await Agent.all().order_by("id")
    return web.json_response({"items": [agent_view(a, loads.get(a.id, 0)) for a in agents]})


@routes.route("PATCH", "/agents/{id}", "Change an agent's capacity, skills/groups or display name",
              body={"type": "object", "properties": {
                  "max_concurrent": {"type": "integer", "minimum": 1},
                  "skills": {"type": "array", "items": {"type": "string"}}, "display_name": {"type": "string"}}})
async def patch_agent(request: web.Request) -> web.Response:
    caller = await authenticate(request)
    ident = request.match_info["id"]
    agent_id = parse_id(ident)
    agent = await Agent.get_or_none(id=agent_id) if agent_id is not None else None
    if agent is None:
        raise ApiError(404, "not_found", "no such agent")
    body = await read_json(request)
    unknown = set(body) - {"max_concurrent", "skills", "display_name"}
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field(s): {', '.join(sorted(unknown))}")
    if not is_supervisor(caller) and (agent.id != caller.id or set(body) - {"display_name"}):
        # an agent names themself; capacity, groups and other agents are a supervisor's
        raise ApiError(403, "forbidden", "only a supervisor may change capacity, groups or another agent")
    changes: dict = {}
    if "max_concurrent" in body:
        changes["max_concurrent"] = field(body, "max_concurrent", int)
        if changes["max_concurrent"] < 1:
            raise ApiError(422, "bad_field", "max_concurrent is at least 1")
    if "skills" in body:
        skills = field(body, "skills", list, max_length=100)
        if not all(isinstance(s, str) and 0 < len(s) <= 64 for s in skills):
            raise ApiError(422, "bad_field", "skills are non-empty strings of at most 64 characters")
        changes["skills"] = skills
    if "display_name" in body:
        changes["display_name"] = field(body, "display_name", str, max_length=128)
    if changes:
        await services_of(request).writer.run_plan(update_row, "agent", agent.id, changes)
        agent = await Agent.get(id=agent.id)
    # More room or new skills may let queued conversations in at once.
    return web.json_response(await services_of(request).conversations.agent_changed(agent))

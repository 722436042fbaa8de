"""Agent API for canned replies: agents list those of their groups and the shared ones and fill
one in for a conversation; supervisors create, change and delete them."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from tortoise.expressions import Q

from csgw.gateway.api.auth import authenticate, is_supervisor, require_supervisor
from csgw.gateway.api.context import services_of
from csgw.gateway.api.errors import ApiError, parse_id, read_json
from csgw.gateway.api.routes import ApiRoutes, Param
from csgw.gateway.models import Agent, Conversation

from .models import SHARED, CannedReply
from .plans import create_plan, delete_plan, update_plan
from .template import VARIABLES, render, variables_in
from .validation import SCHEMA, canned_values
from .values import conversation_values

routes = ApiRoutes()
ON_REPLY = (("get_canned", "$response.body#/id"), ("put_canned", "$response.body#/id"),
            ("delete_canned", "$response.body#/id"), ("render_canned", "$response.body#/id"))


def canned_view(row: CannedReply) -> dict[str, Any]:
    return {
        "id": row.id, "title": row.title, "shortcut": row.shortcut, "text": row.text,
        "group": row.group or None, "variables": variables_in(row.text), "updated_by": row.updated_by,
        "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat(),
    }


def visible_to(agent: Agent) -> Q:
    """Supervisors see every reply; an agent the shared ones and those of their groups."""
    if is_supervisor(agent):
        return Q()
    return Q(group=SHARED) | Q(group__in=list(agent.skills or []))


async def canned_or_404(request: web.Request, agent: Agent) -> CannedReply:
    ident = parse_id(request.match_info["id"])
    row = await CannedReply.filter(visible_to(agent), id=ident).first() if ident is not None else None
    if row is None:  # another group's reply is as good as absent for this agent
        raise ApiError(404, "not_found", "no such canned reply")
    return row


def _saved(outcome: str, shortcut: str) -> None:
    if outcome == "missing":
        raise ApiError(404, "not_found", "no such canned reply")
    if outcome == "taken":
        raise ApiError(409, "shortcut_taken", f"{shortcut} is already a canned reply of this group")


@routes.route("GET", "/canned", "Canned replies the calling agent may use (shared ones and their groups'; a "
              "supervisor sees all), by shortcut; `q` searches title, shortcut and text, `group` keeps the "
              "shared ones and that group's", query=(Param.of("q", type="string", maxLength=100),
                                                     Param.of("group", type="string", maxLength=64)),
              links=ON_REPLY[:1])
async def list_canned(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    query = CannedReply.filter(visible_to(agent))
    q = " ".join(request.query.get("q", "").split())
    if len(q) > 100:
        raise ApiError(400, "bad_q", "q is at most 100 characters")
    if q:
        query = query.filter(Q(title__icontains=q) | Q(shortcut__icontains=q) | Q(text__icontains=q))
    if "group" in request.query:
        group = request.query["group"]
        if len(group) > 64:  # longer than any group's name: the store would refuse to compare
            raise ApiError(400, "bad_group", "group is at most 64 characters")
        query = query.filter(Q(group=SHARED) | Q(group=group))
    rows = await query.order_by("shortcut", "group", "id").limit(1000)
    return web.json_response({"items": [canned_view(row) for row in rows], "variables": list(VARIABLES)})


@routes.route("POST", "/canned", "Create a canned reply (supervisors); `group` null shares it with every group",
              status=201, body=SCHEMA, links=ON_REPLY)
async def create_canned(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    require_supervisor(agent, "manage canned replies")
    values = canned_values(await read_json(request))
    outcome, ident = await services_of(request).writer.run_plan(create_plan, {**values, "updated_by": agent.id})
    _saved(outcome, values["shortcut"])
    return web.json_response(canned_view(await CannedReply.get(id=ident)), status=201)


@routes.route("GET", "/canned/{id}", "One canned reply")
async def get_canned(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    return web.json_response(canned_view(await canned_or_404(request, agent)))


@routes.route("PUT", "/canned/{id}", "Replace a canned reply (supervisors)", body=SCHEMA)
async def put_canned(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    require_supervisor(agent, "manage canned replies")
    row = await canned_or_404(request, agent)
    values = canned_values(await read_json(request))
    outcome = await services_of(request).writer.run_plan(update_plan, row.id, {**values, "updated_by": agent.id})
    _saved(outcome, values["shortcut"])
    return web.json_response(canned_view(await CannedReply.get(id=row.id)))


@routes.route("DELETE", "/canned/{id}", "Delete a canned reply (supervisors)")
async def delete_canned(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    require_supervisor(agent, "manage canned replies")
    row = await canned_or_404(request, agent)
    if not await services_of(request).writer.run_plan(delete_plan, row.id):
        raise ApiError(404, "not_found", "no such canned reply")
    return web.json_response({"deleted": row.id})


@routes.route("GET", "/canned/{id}/render", "The reply's text filled in for a conversation and the calling agent; "
              "`missing` names variables with no value there (left empty: the agent fills them in)",
              query=(Param.of("conversation_id", type="integer", minimum=1),))
async def render_canned(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    row = await canned_or_404(request, agent)
    raw = request.query.get("conversation_id")
    if raw is None:
        raise ApiError(400, "missing_parameter", "conversation_id is required")
    conversation_id = parse_id(raw)
    conversation = await Conversation.get_or_none(id=conversation_id) if conversation_id is not None else None
    if conversation is None:
        raise ApiError(404, "not_found", "no such conversation")
    rendered = render(row.text, await conversation_values(conversation, agent))
    return web.json_response({"id": row.id, "conversation_id": conversation.id, "text": rendered.text,
                              "missing": list(rendered.missing)})

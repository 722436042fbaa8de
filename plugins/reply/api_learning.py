"""Agent API for learning from the desk: knowledge gaps, paraphrase proposals and their review."""

from __future__ import annotations

from aiohttp import web

from csgw.gateway.api.auth import authenticate, require_supervisor
from csgw.gateway.api.errors import ApiError, field, parse_id, read_json
from csgw.gateway.api.routes import ApiRoutes, Param
from csgw.gateway.models import Message

from . import gaps, learning
from .api import kb_handler

# registered before `/kb/{key}`, which would otherwise take "gaps" and "proposals" for entry ids
routes = ApiRoutes()
STATUS = {"unknown_entry": 404, "not_found": 404, "no_question": 422, "decided": 409}


def _api_error(error: learning.LearningError) -> ApiError:
    return ApiError(STATUS.get(error.code, 422), error.code, str(error))


def _int_query(request: web.Request, name: str, default: int, most: int) -> int:
    value = parse_id(request.query.get(name, str(default)))
    if value is None or not 0 < value <= most:
        raise ApiError(400, f"bad_{name}", f"{name} is a number from 1 to {most}")
    return value


@routes.route("GET", "/kb/gaps", "Questions the bot could not answer, clustered, most frequent first",
              query=(Param.of("days", type="integer", minimum=1, maximum=3650),
                     Param.of("limit", type="integer", minimum=1, maximum=1000)))
async def list_gaps(request: web.Request) -> web.Response:
    await authenticate(request)
    days = _int_query(request, "days", 30, 3650)
    limit = _int_query(request, "limit", 50, 1000)
    handler = kb_handler(request)
    await handler.refresh()
    found = gaps.cluster(await gaps.unanswered_questions(days), handler.engine)
    return web.json_response({"items": [gap.to_dict() for gap in found[:limit]]})


@routes.route("GET", "/kb/proposals", "Paraphrases proposed from agents' answers (state: pending, accepted, rejected, all)",
              query=(Param.of("state", type="string", enum=["pending", "accepted", "rejected", "all"]),),
              links=(("accept_proposal", "$response.body#/items/0/id"), ("reject_proposal", "$response.body#/items/0/id")))
async def list_proposals(request: web.Request) -> web.Response:
    await authenticate(request)
    state = request.query.get("state", "pending")
    if state not in ("pending", "accepted", "rejected", "all"):
        raise ApiError(400, "bad_state", "state is pending, accepted, rejected or all")
    items = await learning.proposals(None if state == "all" else state)
    return web.json_response({"items": [learning.proposal_view(p) for p in items]})


async def _decide(request: web.Request, accept: bool) -> web.Response:
    require_supervisor(await authenticate(request), "accept or reject proposals")
    proposal_id = parse_id(request.match_info["id"])
    if proposal_id is None:
        raise ApiError(404, "not_found", "no such proposal")
    try:
        proposal = await learning.decide(proposal_id, accept)
    except learning.LearningError as error:
        raise _api_error(error) from None
    if accept:
        await kb_handler(request).refresh(force=True)
    return web.json_response(learning.proposal_view(proposal))


@routes.route("POST", "/kb/proposals/{id}/accept", "Accept a proposal: the question becomes a paraphrase at once")
async def accept_proposal(request: web.Request) -> web.Response:
    return await _decide(request, True)


@routes.route("POST", "/kb/proposals/{id}/reject", "Reject a proposal")
async def reject_proposal(request: web.Request) -> web.Response:
    return await _decide(request, False)


@routes.route("POST", "/kb/{key}/learn", "Mark which entry answered a customer's question (proposes it for review)",
              status=201, body={"type": "object", "properties": {
                  "conversation_id": {"type": "integer"}, "message_id": {"type": "integer"}}})
async def learn(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    body = await read_json(request)
    message_id = field(body, "message_id", int, required=False)
    conversation_id = field(body, "conversation_id", int, required=False)
    if (message_id is None) == (conversation_id is None):
        raise ApiError(422, "bad_request", "give message_id (the customer's message) or conversation_id")
    key = request.match_info["key"]
    try:
        if message_id is not None:
            message = await Message.get_or_none(id=message_id, direction="in")
            if message is None:
                raise ApiError(404, "not_found", "no such customer message")
            proposal = await learning.propose(key, message, agent.id)
        else:
            proposal = await learning.propose_from_conversation(key, conversation_id, agent_id=agent.id)
    except learning.LearningError as error:
        raise _api_error(error) from None
    if proposal is None:
        return web.json_response({"proposal": None, "reason": "the entry already has this question"})
    return web.json_response({"proposal": learning.proposal_view(proposal)}, status=201)

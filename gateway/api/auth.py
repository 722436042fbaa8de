"""Who is calling: an agent's API token, or a console session (`gateway/sessions.py`); both
random, shown once, stored as SHA-256, compared in constant time, never logged."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from aiohttp import web

from csgw.gateway.api.context import services_of
from csgw.gateway.api.errors import ApiError
from csgw.gateway.api.routes import check_query
from csgw.gateway.clock import now
from csgw.gateway.models import Agent, Conversation
from csgw.gateway.sessions import (
    hash_token,
    is_session_token,
    keep_session,
    live_session,
    needs_keeping,
)
from csgw.gateway.storage.plans import update_row

EVENTS_PATH = "/api/v1/events"


@dataclass(frozen=True, slots=True)
class Credential:
    """What the request was authenticated with: the API token's digest, or a session's id."""

    token_hash: str | None = None
    session_id: int | None = None


CREDENTIAL: web.RequestKey[Credential] = web.RequestKey("csgw_credential", Credential)


def request_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    # Browsers cannot set headers on a WebSocket: the events socket, and nothing else, also takes
    # ?token= (a token in a URL ends up in proxies' logs; no other request needs it there).
    if (request.method == "GET" and request.path == EVENTS_PATH
            and request.headers.get("Upgrade", "").lower() == "websocket"):
        return request.query.get("token")
    return None


async def authenticate(request: web.Request) -> Agent:
    token = request_token(request)
    if not token:
        raise ApiError(401, "unauthorized", "a bearer token is required")
    agent = await (_session_agent(request, token) if is_session_token(token) else _token_agent(request, token))
    if agent is None:
        raise ApiError(401, "unauthorized", "the token is not valid")
    check_query(request)
    agent.last_seen_at = now()
    await services_of(request).writer.run_plan(update_row, "agent", agent.id, {"last_seen_at": agent.last_seen_at})
    return agent


async def _token_agent(request: web.Request, token: str) -> Agent | None:
    token_hash = hash_token(token)
    agent = await Agent.get_or_none(token_hash=token_hash)
    # The lookup is by digest; compare again in constant time so timing says nothing either way.
    if agent is None or not hmac.compare_digest(agent.token_hash or "", token_hash):
        return None
    request[CREDENTIAL] = Credential(token_hash=token_hash)
    return agent


async def _session_agent(request: web.Request, token: str) -> Agent | None:
    session = await live_session(token)
    if session is None:
        return None
    at = now()
    if needs_keeping(session, at):
        await services_of(request).writer.run_plan(keep_session, session.id, at)
    request[CREDENTIAL] = Credential(session_id=session.id)
    return await Agent.get_or_none(id=session.agent_id)


def is_supervisor(agent: Agent) -> bool:
    return agent.role == "supervisor"


def require_supervisor(agent: Agent, action: str) -> None:
    if not is_supervisor(agent):
        raise ApiError(403, "forbidden", f"only a supervisor may {action}")


def require_conversation_access(agent: Agent, conversation: Conversation) -> None:
    """An agent acts on conversations assigned to them, or waiting (bot or queue) in one of their
    groups (or in no group); a supervisor on every conversation."""
    if is_supervisor(agent) or conversation.agent_id == agent.id:
        return
    waiting = conversation.state in ("bot", "queued") and conversation.agent_id is None
    if waiting and (not conversation.group or conversation.group in (agent.skills or [])):
        return
    raise ApiError(403, "forbidden", "this conversation is another agent's: a supervisor may act on it")

"""`GET /api/v1/events`: a WebSocket pushing message and conversation events to agents."""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import WSMsgType, web

from csgw.gateway.api.auth import CREDENTIAL, Credential, authenticate
from csgw.gateway.api.context import services_of
from csgw.gateway.api.routes import ApiRoutes, Param
from csgw.gateway.clock import now
from csgw.gateway.models import Agent, AgentSession

log = structlog.get_logger(__name__)
routes = ApiRoutes()
TOKEN_CHECK_SECONDS = 2.0  # a rotated token (`csgw agents token`, maybe from another process) or an
# ended session (sign-out, on any instance) ends the sockets it opened within this long


@routes.route("GET", "/events", "Live events (WebSocket): message.created, note.created, tags.updated, "
              "conversation.updated, agent.updated",
              query=(Param.of("token", type="string"),))  # browsers cannot set headers on a WebSocket
async def events(request: web.Request) -> web.StreamResponse:
    agent = await authenticate(request)
    services = services_of(request)
    socket = web.WebSocketResponse(heartbeat=30, max_msg_size=4096)
    await socket.prepare(request)
    log.info("agent events connected", agent=agent.name)
    async with services.events.subscribe() as queue:
        reader = asyncio.create_task(_discard_incoming(socket))
        revoked = asyncio.create_task(_token_revoked(agent.id, request[CREDENTIAL]))
        try:
            while not socket.closed:
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, reader, revoked}, return_when=asyncio.FIRST_COMPLETED)
                if revoked in done:
                    getter.cancel()
                    log.info("agent events closed: token rotated or session ended", agent=agent.name)
                    await socket.close(code=4401, message=b"token revoked")
                    break
                if getter not in done:
                    getter.cancel()
                    break
                event = getter.result()
                if event["type"] == "overflow":
                    await socket.close(code=4008, message=b"too slow")
                    break
                if event["type"] == "shutdown":
                    await socket.close(code=1001, message=b"server shutting down")
                    break
                await socket.send_json(event)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            reader.cancel()
            revoked.cancel()
    return socket


async def _token_revoked(agent_id: int, credential: Credential) -> None:
    """Returns once the socket's credential no longer holds: the agent's token is not the one the
    socket was opened with, or its session has ended."""
    while True:
        await asyncio.sleep(TOKEN_CHECK_SECONDS)
        if credential.session_id is not None:
            if not await AgentSession.filter(id=credential.session_id, expires_at__gt=now()).exists():
                return
            continue
        current = await Agent.filter(id=agent_id).values_list("token_hash", flat=True)
        if not current or current[0] != credential.token_hash:
            return


async def _discard_incoming(socket: web.WebSocketResponse) -> None:
    async for message in socket:
        if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break

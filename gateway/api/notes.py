"""Agent API: internal notes on a conversation (agents only; never sent to the customer)."""

from __future__ import annotations

from aiohttp import web

from csgw.gateway.api.auth import authenticate
from csgw.gateway.api.context import services_of
from csgw.gateway.api.conversations import conversation_or_404
from csgw.gateway.api.errors import ApiError, field, read_json
from csgw.gateway.api.routes import ApiRoutes
from csgw.gateway.notes import MAX_NOTE_LENGTH, NOTE_EVENT, add_note
from csgw.gateway.views import message_view

routes = ApiRoutes()


@routes.route("POST", "/conversations/{id}/notes", "Add an internal note for the agents: listed with the "
              "messages (direction `note`), announced as `note.created`, never sent to the customer",
              status=201, links=(("list_messages", "$request.path.id"),),
              body={"type": "object", "required": ["text"], "properties": {
                  "text": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE_LENGTH}}})
async def post_note(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    services = services_of(request)
    conversation = await conversation_or_404(request)
    body = await read_json(request)
    unknown = set(body) - {"text"}
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field(s): {', '.join(sorted(unknown))}")
    text = field(body, "text", str, max_length=MAX_NOTE_LENGTH).strip()
    if not text:
        raise ApiError(422, "empty_text", "text is empty")
    note = await add_note(services.writer, conversation, agent, text)
    view = message_view(note)
    services.events.publish(NOTE_EVENT, view)
    return web.json_response(view, status=201)

"""Agent API for the knowledge base: search, read, create/replace, delete, test."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from tortoise.expressions import Q

from csgw.gateway.api.auth import authenticate, require_supervisor
from csgw.gateway.api.context import services_of
from csgw.gateway.api.errors import ApiError, field, read_json
from csgw.gateway.api.routes import ApiRoutes

from . import kb_store
from .kb import KBError, build_entries
from .models import KnowledgeEntry
from .scopes import ScopeError, checked_scope, language_of

if TYPE_CHECKING:
    from .plugin import StoredKnowledgeBase

routes = ApiRoutes()
ENTRY_SCHEMA = {"type": "object", "required": ["question", "answer"], "properties": {
    "category": {"type": "string"}, "question": {"type": "string"}, "answer": {"type": "string"},
    "similar": {"type": "array", "items": {"type": "string"}}, "keywords": {"type": "array"},
    "priority": {"type": "integer"},
    # "webchat" (every site) or "webchat/shoes" (one site)
    "channels": {"type": "array", "items": {"type": "string", "pattern": "^[^/\\s]+(/[^/\\s]+)?$"}},
    "answers": {"type": "object"}}}


def entry_view(row: KnowledgeEntry) -> dict:
    return kb_store.row_entry(row) | {"updated_at": row.updated_at.isoformat() if row.updated_at else None}


def kb_handler(request: web.Request) -> StoredKnowledgeBase:
    from .plugin import knowledge_base_for

    kb = knowledge_base_for(services_of(request).settings)
    if kb is None:
        raise ApiError(409, "kb_disabled", "the knowledge-base reply plugin is disabled")
    return kb


@routes.route("GET", "/kb", "Knowledge-base entries, optionally searched with q", query=("q",))
async def search_kb(request: web.Request) -> web.Response:
    await authenticate(request)
    query = KnowledgeEntry.all()
    q = request.query.get("q", "").strip()
    if q:
        query = query.filter(Q(question__icontains=q) | Q(answer__icontains=q) | Q(category__icontains=q)
                             | Q(key__icontains=q))
    entries = await query.order_by("-priority", "key").limit(100)
    return web.json_response({"items": [entry_view(e) for e in entries]})


@routes.route("GET", "/kb/{key}", "One knowledge-base entry")
async def get_entry(request: web.Request) -> web.Response:
    await authenticate(request)
    row = await KnowledgeEntry.get_or_none(key=request.match_info["key"])
    if row is None:
        raise ApiError(404, "not_found", "no such entry")
    return web.json_response(entry_view(row))


@routes.route("PUT", "/kb/{key}", "Create or replace an entry; the bot uses it within seconds", body=ENTRY_SCHEMA)
async def put_entry(request: web.Request) -> web.Response:
    require_supervisor(await authenticate(request), "edit the knowledge base")
    body = await read_json(request)
    try:
        [entry] = build_entries([{**body, "id": request.match_info["key"]}], "request")
    except KBError as error:
        if any(problem.field and problem.field.startswith(("channels", "answers")) for problem in error.problems):
            raise ApiError(400, "bad_channel", str(error)) from None
        raise ApiError(422, "bad_entry", str(error)) from None
    created = await kb_store.save_entry(entry)
    await kb_handler(request).refresh(force=True)
    row = await KnowledgeEntry.get(key=entry.id)
    return web.json_response(entry_view(row), status=201 if created else 200)


@routes.route("DELETE", "/kb/{key}", "Delete an entry")
async def delete_entry(request: web.Request) -> web.Response:
    require_supervisor(await authenticate(request), "edit the knowledge base")
    if not await kb_store.delete_entry(request.match_info["key"]):
        raise ApiError(404, "not_found", "no such entry")
    await kb_handler(request).refresh(force=True)
    return web.json_response({"deleted": request.match_info["key"]})


@routes.route("POST", "/kb/test", "Explain which rule or entry would answer a text",
              body={"type": "object", "required": ["text"], "properties": {"text": {"type": "string"},
                                                                          "channel": {"type": "string"}}})
async def test_text(request: web.Request) -> web.Response:
    await authenticate(request)
    body = await read_json(request)
    text = field(body, "text", str, max_length=4000)
    channel = field(body, "channel", str, required=False, max_length=200)
    language = None
    if channel is not None:
        try:
            channel = checked_scope(channel)
        except ScopeError as error:
            raise ApiError(400, "bad_channel", str(error)) from None
        language = language_of(channel, services_of(request).settings)
    handler = kb_handler(request)
    await handler.refresh()
    return web.json_response((await handler.match(text, channel=channel, language=language)).to_dict())


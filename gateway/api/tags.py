"""Agent API: conversation tags, put on and taken off by agents, and the tags in use (the
conversation list's `?tag=` filter is `tags.tagged`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from tortoise.functions import Count

from csgw.gateway.api.auth import authenticate
from csgw.gateway.api.context import services_of
from csgw.gateway.api.conversations import conversation_or_404
from csgw.gateway.api.errors import ApiError, read_json
from csgw.gateway.api.routes import ApiRoutes, Param
from csgw.gateway.models import ConversationTag
from csgw.gateway.tags import (
    MAX_TAG_LENGTH,
    MAX_TAGS_PER_CONVERSATION,
    TagError,
    add_tags_plan,
    announce_tags,
    normalise_tag,
    remove_tag_plan,
    tags_of,
)

routes = ApiRoutes()
TAG_BODY = {"type": "object", "required": ["tag"], "properties": {
    "tag": {"type": "string", "minLength": 1, "maxLength": MAX_TAG_LENGTH}}}


def tag_in(body: dict[str, Any]) -> str:
    unknown = set(body) - {"tag"}
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field(s): {', '.join(sorted(unknown))}")
    if "tag" not in body:
        raise ApiError(422, "missing_field", "tag is required")
    try:
        return normalise_tag(body["tag"])
    except TagError as error:
        raise ApiError(422, "bad_tag", str(error)) from None


async def _tagged(request: web.Request, conversation_id: int) -> web.Response:
    tags = await announce_tags(services_of(request).events, conversation_id)
    return web.json_response({"conversation_id": conversation_id, "tags": tags})


@routes.route("POST", "/conversations/{id}/tags", "Tag the conversation (whitespace and full-width forms "
              "normalised; a tag it has already is left as it is); its tags", body=TAG_BODY,
              links=(("get_conversation", "$request.path.id"), ("delete_tag", "$request.path.id")))
async def add_tag(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    conversation = await conversation_or_404(request)
    tag = tag_in(await read_json(request))
    present = (await tags_of([conversation.id])).get(conversation.id, [])
    if len(present) >= MAX_TAGS_PER_CONVERSATION and tag not in {t["tag"] for t in present}:
        raise ApiError(422, "too_many_tags", f"a conversation has at most {MAX_TAGS_PER_CONVERSATION} tags")
    await services_of(request).writer.run_plan(add_tags_plan, conversation.id, [tag], "agent", agent.id)
    return await _tagged(request, conversation.id)


@routes.route("DELETE", "/conversations/{id}/tags", "Take a tag off the conversation (also one the bot put "
              "on); its tags", body=TAG_BODY)
async def delete_tag(request: web.Request) -> web.Response:
    await authenticate(request)
    conversation = await conversation_or_404(request)
    tag = tag_in(await read_json(request))
    if not await services_of(request).writer.run_plan(remove_tag_plan, conversation.id, tag):
        raise ApiError(404, "not_found", "the conversation has no such tag")
    return await _tagged(request, conversation.id)


@routes.route("GET", "/tags", "Tags in use, most used first, with how many conversations carry each",
              query=(Param.of("limit", type="integer", minimum=1, maximum=500),))
async def list_tags(request: web.Request) -> web.Response:
    await authenticate(request)
    raw = request.query.get("limit", "100")
    limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0
    if not 1 <= limit <= 500:
        raise ApiError(400, "bad_limit", "limit is a number from 1 to 500")
    rows = await (ConversationTag.all().group_by("tag").annotate(conversations=Count("id"))
                  .order_by("-conversations", "tag").limit(limit).values_list("tag", "conversations"))
    return web.json_response({"items": [{"tag": tag, "conversations": count} for tag, count in rows]})

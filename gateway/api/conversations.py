"""Agent API: conversations and their messages."""

from __future__ import annotations

import base64
from datetime import datetime

from aiohttp import web
from tortoise.expressions import Q

from csgw.gateway.api.auth import authenticate, require_conversation_access
from csgw.gateway.api.context import services_of
from csgw.gateway.api.errors import ApiError, field, parse_id, read_json
from csgw.gateway.api.routes import ApiRoutes, Param
from csgw.gateway.conversations import ConversationError
from csgw.gateway.messages import DraftReply
from csgw.gateway.models import (
    CUSTOMER_DIRECTIONS,
    LISTED_STATES,
    Conversation,
    Customer,
    CustomerIdentity,
    Message,
)
from csgw.gateway.tags import TagError, tagged, tags_of
from csgw.gateway.views import conversation_view, message_view

routes = ApiRoutes()
PAGE_SIZE = 50


async def conversation_or_404(request: web.Request) -> Conversation:
    conversation_id = parse_id(request.match_info["id"])
    if conversation_id is None:
        raise ApiError(404, "not_found", "no such conversation")
    conversation = await Conversation.get_or_none(id=conversation_id)
    if conversation is None:
        raise ApiError(404, "not_found", "no such conversation")
    return conversation


async def last_message(conversation_id: int) -> Message | None:
    """The conversation's last word with the customer (an agents' note is not one)."""
    return await Message.filter(conversation_id=conversation_id, direction__in=CUSTOMER_DIRECTIONS).order_by("-id").first()


async def customer_names(conversations: list[Conversation]) -> dict[int, str]:
    """What agents call each conversation's customer, by conversation id: the profile's name, else
    the nickname a channel gave (the conversation's own first, e.g. a WeChat follower's). A
    customer with neither (an anonymous site visitor) is left out."""
    names = dict(await Customer.filter(id__in={c.customer_id for c in conversations}).values_list("id", "name"))
    found: dict[int, str] = {}
    unnamed = []
    for conversation in conversations:
        name = str(names.get(conversation.customer_id) or "").strip()
        if name:
            found[conversation.id] = name
        else:
            unnamed.append(conversation)
    if unnamed:
        identities = await CustomerIdentity.filter(customer_id__in={c.customer_id for c in unnamed}).order_by("id")
        for conversation in unnamed:
            theirs = sorted((i for i in identities if i.customer_id == conversation.customer_id),
                            key=lambda i: (i.channel, i.account) != (conversation.channel, conversation.account))
            nickname = next((n for n in map(_nickname, theirs) if n), "")
            if nickname:
                found[conversation.id] = nickname
    return found


def _nickname(identity: CustomerIdentity) -> str:
    profile = identity.profile if isinstance(identity.profile, dict) else {}
    return str(profile.get("nickname") or "").strip()


def _encode_cursor(conversation: Conversation) -> str:
    raw = f"{conversation.last_message_at.isoformat()}|{conversation.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, _, ident = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        when, conversation_id = datetime.fromisoformat(stamp), parse_id(ident)
    except (ValueError, UnicodeError):
        raise ApiError(400, "bad_cursor", "the cursor is not valid") from None
    if conversation_id is None:
        raise ApiError(400, "bad_cursor", "the cursor is not valid")
    return when, conversation_id


ON_CONVERSATION = ("get_conversation", "list_messages", "post_message", "typing", "take", "close", "transfer",
                   "post_note", "add_tag", "delete_tag")


def conversation_links(source: str, customer_source: str) -> tuple[tuple[str, str], ...]:
    return (*((operation, source) for operation in ON_CONVERSATION),
            ("get_customer", customer_source), ("patch_customer", customer_source))


@routes.route("GET", "/conversations", "List conversations, newest activity first, paged by cursor",
              links=conversation_links("$response.body#/items/0/id", "$response.body#/items/0/customer_id"),
              query=(Param.of("state", type="string", enum=list(LISTED_STATES)),
                     Param.of("agent", type="string", pattern=r"^(me|[1-9][0-9]{0,17})$"),
                     Param.of("group", type="string", maxLength=64), "cursor",
                     Param.of("limit", type="integer", minimum=1, maximum=200),
                     Param.of("tag", type="array", items={"type": "string", "minLength": 1, "maxLength": 32})))
async def list_conversations(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    query = Conversation.all()
    state = request.query.get("state")
    if state:
        if state not in LISTED_STATES:
            raise ApiError(400, "bad_state", "state is one of bot, queued, assigned, closed, open")
        query = query.filter(state__not="closed") if state == "open" else query.filter(state=state)
    who = request.query.get("agent")
    if who:
        if who == "me":
            query = query.filter(agent_id=agent.id)
        elif parse_id(who) is not None:
            query = query.filter(agent_id=parse_id(who))
        else:
            raise ApiError(400, "bad_agent", "agent is `me` or an agent id")
    if request.query.get("group"):
        if len(request.query["group"]) > 64:  # longer than any group's name: the store refuses it
            raise ApiError(400, "bad_group", "group is at most 64 characters")
        query = query.filter(group=request.query["group"])
    try:
        query = tagged(query, request.query.getall("tag", []))  # each tag given: all of them
    except TagError as error:
        raise ApiError(400, "bad_tag", str(error)) from None
    if request.query.get("cursor"):
        stamp, ident = _decode_cursor(request.query["cursor"])
        query = query.filter(Q(last_message_at__lt=stamp) | Q(last_message_at=stamp, id__lt=ident))
    limit = parse_id(request.query.get("limit", str(PAGE_SIZE)))
    if limit is None or not 1 <= limit <= 200:
        raise ApiError(400, "bad_limit", "limit is a number from 1 to 200")
    page = await query.order_by("-last_message_at", "-id").limit(limit + 1)
    names = await customer_names(page[:limit])
    tags = await tags_of(c.id for c in page[:limit])
    items = []
    for conversation in page[:limit]:
        last = await last_message(conversation.id)
        items.append({**conversation_view(conversation, last, names.get(conversation.id)),
                      "tags": tags.get(conversation.id, [])})
    cursor = _encode_cursor(page[limit - 1]) if len(page) > limit else None
    return web.json_response({"items": items, "next_cursor": cursor})


@routes.route("GET", "/conversations/{id}", "One conversation",
              links=conversation_links("$response.body#/id", "$response.body#/customer_id"))
async def get_conversation(request: web.Request) -> web.Response:
    await authenticate(request)
    conversation = await conversation_or_404(request)
    last = await last_message(conversation.id)
    names = await customer_names([conversation])
    tags = (await tags_of([conversation.id])).get(conversation.id, [])
    return web.json_response({**conversation_view(conversation, last, names.get(conversation.id)), "tags": tags})


@routes.route("GET", "/conversations/{id}/messages", "Messages of a conversation in order, agents' notes "
              "among them (direction `note`)",
              query=(Param.of("after", type="integer", minimum=0),))
async def list_messages(request: web.Request) -> web.Response:
    await authenticate(request)
    conversation = await conversation_or_404(request)
    query = Message.filter(conversation_id=conversation.id)
    after = request.query.get("after")
    if after:
        after_id = parse_id(after)
        if after_id is None:
            raise ApiError(400, "bad_after", "after is a message id")
        query = query.filter(id__gt=after_id)
    messages = await query.order_by("id").limit(1000)
    return web.json_response({"items": [message_view(m) for m in messages]})


@routes.route("POST", "/conversations/{id}/messages", "Reply as the calling agent", status=201,
              links=(("list_messages", "$request.path.id"),),
              body={"type": "object", "required": ["text"], "properties": {
                  "text": {"type": "string"}, "kb_entry_id": {"type": "string"}}})
async def post_message(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    services = services_of(request)
    conversation = await conversation_or_404(request)
    body = await read_json(request)
    text = field(body, "text", str, max_length=8000).strip()
    if not text:
        raise ApiError(422, "empty_text", "text is empty")
    if conversation.state == "closed":
        raise ApiError(409, "closed", "the conversation is closed")
    if conversation.state == "assigned" and conversation.agent_id not in (None, agent.id):
        raise ApiError(409, "taken", "another agent has this conversation")
    require_conversation_access(agent, conversation)  # waiting outside the agent's groups
    if conversation.state != "assigned":
        try:
            await services.conversations.take(conversation, agent)
        except ConversationError as error:  # taken meanwhile (another instance), or the agent is full
            raise refused(error) from None
    payload = {"agent_name": agent.display_name or agent.name}
    kb_entry_id = field(body, "kb_entry_id", str, required=False, max_length=128)
    if kb_entry_id:  # the agent answered with this KB entry: the bot can learn the question
        payload["kb_entry_id"] = kb_entry_id
    outbound = await services.store.store_replies(
        conversation, [DraftReply(text, "agent", payload, agent_id=agent.id)])
    services.outbox.wake()
    message = await Message.get(id=outbound[0].message_id)
    view = message_view(message)
    services.events.publish("message.created", view)
    return web.json_response(view, status=201)


@routes.route("POST", "/conversations/{id}/typing", "Tell the customer the agent is writing (where the channel can)",
              body={"type": "object", "properties": {"on": {"type": "boolean"}}})
async def typing(request: web.Request) -> web.Response:
    agent = await authenticate(request)
    services = services_of(request)
    conversation = await conversation_or_404(request)
    require_conversation_access(agent, conversation)
    on = field(await read_json(request), "on", bool, required=False)
    channel = services.channel(conversation.channel, conversation.account)
    if channel is not None and conversation.state != "closed":
        user_id = await services.store.platform_user_id(conversation)
        try:
            await channel.typing(user_id, on is not False)
        except Exception as error:  # typing is best effort; the reply itself is what matters
            channel.log.info("typing indicator failed", error=repr(error))
    return web.json_response({"ok": True})


async def _state_change(request: web.Request, action: str) -> web.Response:
    agent = await authenticate(request)
    services = services_of(request)
    conversation = await conversation_or_404(request)
    require_conversation_access(agent, conversation)
    try:
        if action == "take":
            await services.conversations.take(conversation, agent)
        elif action == "close":
            await services.conversations.close(conversation)
        else:
            body = await read_json(request)
            agent_id = field(body, "agent_id", int, required=False)
            group = field(body, "group", str, required=False, max_length=64)
            note = field(body, "note", str, required=False, max_length=2000) or ""
            force = field(body, "force", bool, required=False) or False
            await services.conversations.transfer(conversation, agent_id=agent_id, group=group, note=note,
                                                  force=force)
    except ConversationError as error:
        raise refused(error) from None
    return web.json_response(conversation_view(conversation))


def refused(error: ConversationError) -> ApiError:
    return ApiError(422 if error.code in ("bad_request", "unknown_agent") else 409, error.code, str(error))


@routes.route("POST", "/conversations/{id}/take", "Take the conversation")
async def take(request: web.Request) -> web.Response:
    return await _state_change(request, "take")


@routes.route("POST", "/conversations/{id}/close", "Close the conversation")
async def close(request: web.Request) -> web.Response:
    return await _state_change(request, "close")


@routes.route("POST", "/conversations/{id}/transfer", "Transfer to an agent or a group",
              body={"type": "object", "properties": {"agent_id": {"type": "integer"},
                                                     "group": {"type": "string"}, "note": {"type": "string"},
                                                     "force": {"type": "boolean"}}})
async def transfer(request: web.Request) -> web.Response:
    return await _state_change(request, "transfer")

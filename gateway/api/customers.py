"""Agent API: customer profiles with identities, orders, cross-channel history and live context;
binding to the shop's account id; merging two customers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from csgw.gateway.api.auth import authenticate
from csgw.gateway.api.context import services_of
from csgw.gateway.api.errors import ApiError, field, parse_id, read_json
from csgw.gateway.api.routes import ApiRoutes
from csgw.gateway.binding import CUSTOMER_STATES, BindingError, bind, make_code, merge_customers
from csgw.gateway.clock import now
from csgw.gateway.customer_events import announce_customer_change, holder_of
from csgw.gateway.models import Conversation, Customer, CustomerIdentity, Message
from csgw.gateway.storage.plans import update_row
from csgw.gateway.views import conversation_view, customer_view, message_view

routes = ApiRoutes()
EDITABLE = ("name", "tags", "vip", "exclusive_agent_id", "state", "notes", "orders", "shop_user_id")
HISTORY_LIMIT = 500  # the latest messages across all the customer's conversations


async def customer_or_404(request: web.Request) -> Customer:
    ident = request.match_info["id"]
    customer_id = parse_id(ident)
    customer = await Customer.get_or_none(id=customer_id) if customer_id is not None else None
    if customer is None:
        raise ApiError(404, "not_found", "no such customer")
    return customer


async def full_view(customer: Customer) -> dict:
    identities = await CustomerIdentity.filter(customer_id=customer.id).order_by("id")
    conversations = await Conversation.filter(customer_id=customer.id).order_by("-id").limit(50)
    view = customer_view(customer, [
        {"channel": i.channel, "account": i.account, "platform_user_id": i.platform_user_id,
         "profile": i.profile} for i in identities])
    view["shop_user_id"] = customer.shop_user_id
    view["conversations"] = [conversation_view(c) for c in conversations]
    all_ids = await Conversation.filter(customer_id=customer.id).values_list("id", flat=True)
    latest = await Message.filter(conversation_id__in=list(all_ids)).order_by("-id").limit(HISTORY_LIMIT)
    view["history"] = [message_view(m) for m in reversed(latest)]
    return view


@routes.route("GET", "/customers/{id}", "A customer's profile, identities, orders, cross-channel history "
              "and live context from plugins")
async def get_customer(request: web.Request) -> web.Response:
    await authenticate(request)
    view = await full_view(await customer_or_404(request))
    services = services_of(request)
    view["context"] = await services.host.customer_context(
        services, view, timeout=services.settings.customers.context_timeout_seconds)
    return web.json_response(view)


def profile_changes(body: dict[str, Any], customer: Customer) -> dict[str, Any]:
    unknown = set(body) - set(EDITABLE)
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field(s): {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = field(body, "name", str, max_length=128)
    if "tags" in body:
        tags = field(body, "tags", list, max_length=100)
        if not all(isinstance(t, str) and len(t) <= 64 for t in tags):
            raise ApiError(422, "bad_field", "tags are strings of at most 64 characters")
        changes["tags"] = tags
    if "vip" in body:
        changes["vip"] = field(body, "vip", bool)
    if "exclusive_agent_id" in body:
        changes["exclusive_agent_id"] = field(body, "exclusive_agent_id", int, required=False)
    if "state" in body:
        state = field(body, "state", str)
        if state not in CUSTOMER_STATES:
            raise ApiError(422, "bad_field", f"state is one of {', '.join(CUSTOMER_STATES)}")
        changes["state"] = state
    if "notes" in body:
        changes["notes"] = field(body, "notes", str, max_length=10_000)
    if "orders" in body:
        orders = field(body, "orders", list, max_length=1000)
        if not all(isinstance(o, dict) for o in orders):
            raise ApiError(422, "bad_field", "orders are JSON objects (id, amount, status, …)")
        changes["orders"] = orders
        if orders and "state" not in changes and customer.state == "presale":
            changes["state"] = "ordered"  # an order moves a pre-sale customer on
    if "shop_user_id" in body:
        field(body, "shop_user_id", str, required=False, max_length=128)
    return changes


@routes.route("PATCH", "/customers/{id}", "Change a customer's profile or orders",
              body={"type": "object", "properties": {
                  "name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
                  "vip": {"type": "boolean"}, "exclusive_agent_id": {"type": ["integer", "null"]},
                  "state": {"type": "string", "enum": list(CUSTOMER_STATES)}, "notes": {"type": "string"},
                  "orders": {"type": "array", "items": {"type": "object"}},
                  "shop_user_id": {"type": ["string", "null"], "maxLength": 128}}})
async def patch_customer(request: web.Request) -> web.Response:
    await authenticate(request)
    services = services_of(request)
    customer = before = await customer_or_404(request)
    body = await read_json(request)
    changes = profile_changes(body, customer)
    if changes:
        await services.writer.run_plan(update_row, "customer", customer.id, {**changes, "updated_at": now()})
        customer = await Customer.get(id=customer.id)
    merged = None
    if "shop_user_id" in body:
        # Another customer bound to the same shop account is the same person: merged into this one.
        merged = await holder_of(body["shop_user_id"], customer.id)
        try:
            customer = await bind(services.writer, services.store, customer.id, body["shop_user_id"], replace=True)
        except BindingError as error:
            announce_customer_change(services.events, before, customer)  # what was written before
            raise ApiError(422, error.code, str(error)) from None
    announce_customer_change(services.events, before, customer, merged_customer_id=merged)
    return web.json_response(await full_view(customer))


@routes.route("POST", "/customers/binding-code", "Mint a single-use code a shop customer sends (绑定 CODE) to bind "
              "their chats to their shop account", status=201,
              body={"type": "object", "required": ["shop_user_id"], "properties": {
                  "shop_user_id": {"type": "string", "minLength": 1, "maxLength": 128},
                  "ttl_seconds": {"type": "integer", "minimum": 1, "maximum": 2592000}}})
async def binding_code(request: web.Request) -> web.Response:
    await authenticate(request)
    settings = services_of(request).settings.customers
    if not settings.binding_secret:
        raise ApiError(409, "binding_disabled", "binding codes are off: set [customers] binding_secret")
    body = await read_json(request)
    shop_user_id = field(body, "shop_user_id", str, max_length=128)
    ttl = field(body, "ttl_seconds", int, required=False)
    ttl = settings.binding_code_ttl_seconds if ttl is None else ttl
    if not 0 < ttl <= 2_592_000:
        raise ApiError(422, "bad_field", "ttl_seconds is between 1 and 2592000 (30 days)")
    expires_at = now() + timedelta(seconds=ttl)
    try:
        code = make_code(settings.binding_secret, shop_user_id, expires_at)
    except BindingError as error:
        raise ApiError(422, error.code, str(error)) from None
    return web.json_response({"code": code, "message": f"绑定 {code}", "shop_user_id": shop_user_id,
                              "expires_at": expires_at.replace(microsecond=0).isoformat()}, status=201)


@routes.route("POST", "/customers/{id}/merge", "Merge another customer (identities, history, orders) into this one",
              body={"type": "object", "required": ["other_id"], "properties": {"other_id": {"type": "integer"}}})
async def merge_customer(request: web.Request) -> web.Response:
    await authenticate(request)
    services = services_of(request)
    keep = await customer_or_404(request)
    other_id = field(await read_json(request), "other_id", int)
    other = await Customer.get_or_none(id=other_id)
    if other is None:
        raise ApiError(404, "not_found", "no such customer to merge")
    if other.id == keep.id:
        raise ApiError(422, "bad_field", "a customer cannot be merged into itself")
    merged = await merge_customers(services.writer, services.store, keep, other)
    announce_customer_change(services.events, keep, merged, merged_customer_id=other.id)
    return web.json_response(await full_view(merged))

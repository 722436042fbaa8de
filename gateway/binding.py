"""Binding a customer to the shop's own account id (`shop_user_id`), and merging two customers
who turn out to be one person.

A binding code is minted by the shop's site (or `POST /api/v1/customers/binding-code`) for a
logged-in shopper, who sends it on any channel as `绑定 CODE` (also `綁定 CODE`, `bind CODE`):

    CODE    = SHOP_USER_ID "-" EXPIRY "-" MAC
    EXPIRY  = the code's end as Unix seconds, exactly 10 digits (e.g. 1767225600)
    MAC     = the first 16 characters of base32(HMAC-SHA256(key=[customers] binding_secret,
              message=SHOP_USER_ID + EXPIRY)), UTF-8, no "=" padding; compared case-insensitively
    SHOP_USER_ID = 1-128 characters, no whitespace or control characters (it may contain "-")

e.g. `绑定 u1001-1767225600-K5QGJ2XCV4ZTMH3A`. Binding to a shop_user_id another customer already
has merges that customer into this one. A code binds once: the binding plugin records its first
use in the store, which refuses a second (`plugins/binding/codes.py`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from tortoise.exceptions import IntegrityError

from csgw.gateway.clock import now
from csgw.gateway.models import Customer, CustomerIdentity
from csgw.gateway.storage.open_conversations import close_superseded_conversations
from csgw.gateway.storage.plans import ExecuteMany, Plan, update, update_row

if TYPE_CHECKING:
    from csgw.gateway.storage.store import MessageStore
    from csgw.gateway.storage.writer import GroupCommitWriter

log = structlog.get_logger(__name__)

CUSTOMER_STATES = ("presale", "ordered", "aftersale")  # in the order a customer moves through them
SHOP_USER_ID = re.compile(r"^[^\s\x00-\x1f\x7f]{1,128}\Z")  # no spaces, no control characters
BIND_REQUEST = re.compile(r"^\s*(?:绑定|綁定|bind)\s*[:：]?\s*(\S+)\s*$", re.IGNORECASE)
MAC_LENGTH = 16


class BindingError(Exception):
    """A binding that cannot be made; `code` names why (bad_code, expired, used, already_bound, …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def code_mac(secret: str, shop_user_id: str, expiry: int) -> str:
    digest = hmac.new(secret.encode(), f"{shop_user_id}{expiry:010d}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=")[:MAC_LENGTH]


def make_code(secret: str, shop_user_id: str, expires_at: datetime) -> str:
    check_shop_user_id(shop_user_id)
    expiry = int(expires_at.timestamp())
    return f"{shop_user_id}-{expiry:010d}-{code_mac(secret, shop_user_id, expiry)}"


@dataclass(frozen=True, slots=True)
class BindingCode:
    """A valid, unexpired code: the account it names, its end, and its MAC (upper case), which
    tells one code from another."""

    shop_user_id: str
    expires_at: datetime
    mac: str


def read_code(secret: str, code: str, at: datetime) -> BindingCode:
    """What a valid, unexpired code says; `BindingError` otherwise."""
    shop_user_id, _, rest = code.rpartition("-")
    shop_user_id, _, expiry = shop_user_id.rpartition("-")
    if not (shop_user_id and SHOP_USER_ID.match(shop_user_id) and re.fullmatch(r"\d{10}", expiry)):
        raise BindingError("bad_code", "the binding code is not valid")
    if not hmac.compare_digest(code_mac(secret, shop_user_id, int(expiry)), rest.upper()):
        raise BindingError("bad_code", "the binding code is not valid")
    if int(expiry) <= at.timestamp():
        raise BindingError("expired", "the binding code has expired")
    return BindingCode(shop_user_id, datetime.fromtimestamp(int(expiry), UTC), rest.upper())


def bind_request(text: str) -> str | None:
    """The code in a `绑定 CODE` message, or None for any other text."""
    match = BIND_REQUEST.match(text or "")
    return match.group(1) if match else None


def check_shop_user_id(shop_user_id: str) -> str:
    if not SHOP_USER_ID.match(shop_user_id):
        raise BindingError("bad_shop_user_id", "shop_user_id is 1-128 characters without spaces")
    return shop_user_id


async def bind(writer: GroupCommitWriter, store: MessageStore, customer_id: int, shop_user_id: str | None, *,
               replace: bool = False) -> Customer:
    """Bind (or, with None, unbind) a customer; a customer already holding the id is merged into it.

    Without `replace`, a customer bound to another shop account is refused (a customer's own code).
    """
    customer = await Customer.get(id=customer_id)
    if shop_user_id is not None:
        check_shop_user_id(shop_user_id)
    if customer.shop_user_id == shop_user_id:
        return customer
    if customer.shop_user_id and not replace:
        raise BindingError("already_bound", "this customer is bound to another shop account")
    owner = await Customer.get_or_none(shop_user_id=shop_user_id) if shop_user_id else None
    if owner is None:
        try:
            await writer.run_plan(update_row, "customer", customer.id, {"shop_user_id": shop_user_id})
        except IntegrityError:  # another customer took the id meanwhile: they are one person
            owner = await Customer.get(shop_user_id=shop_user_id)
    if owner is not None:
        customer = await merge_customers(writer, store, customer, owner, shop_user_id=shop_user_id)
    log.info("customer bound", customer_id=customer.id, shop_user_id=shop_user_id)
    return await Customer.get(id=customer.id)


def merged_profile(keep: Customer, other: Customer) -> dict[str, Any]:
    notes = "\n".join(n for n in (keep.notes, other.notes) if n)
    return {
        "name": keep.name or other.name,
        "tags": list(dict.fromkeys([*(keep.tags or []), *(other.tags or [])])),
        "vip": keep.vip or other.vip,
        "exclusive_agent_id": keep.exclusive_agent_id or other.exclusive_agent_id,
        "state": max(keep.state, other.state, key=lambda s: CUSTOMER_STATES.index(s) if s in CUSTOMER_STATES else 0),
        "notes": notes,
        "orders": [*(keep.orders or []), *(other.orders or [])],
        "shop_user_id": keep.shop_user_id or other.shop_user_id,
    }


async def merge_customers(writer: GroupCommitWriter, store: MessageStore, keep: Customer, other: Customer,
                          **overrides: Any) -> Customer:
    """Move `other`'s identities, conversations and profile into `keep`, then delete `other`."""
    moved = await CustomerIdentity.filter(customer_id=other.id)
    profile = {**merged_profile(keep, other), **overrides}

    # Through the writer, so no inbound message lands on the old customer half-way.
    closed = await writer.run_plan(_merge_plan, keep.id, other.id, profile)
    store.forget_identities([(i.channel, i.account, i.platform_user_id) for i in moved])
    store.customer_changed(keep.id)
    log.info("customers merged", customer_id=keep.id, merged_id=other.id, identities=len(moved),
             closed_conversation_ids=closed)
    return await Customer.get(id=keep.id)


def _merge_plan(keep_id: int, other_id: int, profile: dict[str, Any]) -> Plan[list[int]]:
    # Both open on one thread (two visitor ids of one shopper): one customer may hold one there.
    closed = yield from close_superseded_conversations([keep_id, other_id])
    yield update("customer_identity", {"customer_id": keep_id}, '"customer_id" = ?', [other_id])
    yield update("conversation", {"customer_id": keep_id}, '"customer_id" = ?', [other_id])
    # Deleted before `keep` takes over its shop_user_id, which is unique.
    yield ExecuteMany('DELETE FROM "customer" WHERE "id" = ?', [[other_id]])
    yield from update_row("customer", keep_id, {**profile, "updated_at": now()})
    return closed

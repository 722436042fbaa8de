"""Builtin binding plugin: a `绑定 CODE` message or the widget's verified identity binds the
customer to the shop's own account id (code format in `gateway/binding.py`); a code binds once
(`codes.py`)."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import structlog

from csgw.gateway.binding import BindingError, bind_request, read_code
from csgw.gateway.clock import now
from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.models import Conversation, Customer, CustomerIdentity
from csgw.gateway.reply import Reply, ReplyContext
from csgw.gateway.texts import TEXTS, Texts
from csgw.plugins.binding.codes import MODULES, use_code

if TYPE_CHECKING:
    from csgw.config.schema import Settings
    from csgw.gateway.ports import Gateway

log = structlog.get_logger(__name__)
VERIFIED = "verified_shop_user_id"
CHECKED_LIMIT = 100_000


class Binder:
    """One gateway's binding work; remembers identities already checked, so most messages cost nothing."""

    def __init__(self, services: Gateway) -> None:
        self.services = services
        self.checked: set[tuple[str, str, str]] = set()
        self.texts = Texts(TEXTS, services.settings.text_overrides)  # binding.* in the shop's wording

    async def bind_code(self, customer_id: int, code: str, language: str) -> str:
        """Bind the customer the code names, using the code up; the customer's answer either way."""
        try:
            found = read_code(self.services.settings.customers.binding_secret or "", code, now())
            customer = await Customer.get_or_none(id=customer_id)
            bound = customer.shop_user_id if customer is not None else None
            if bound == found.shop_user_id:
                return self.texts.render("binding.done", language)  # sent again by the customer it bound
            if bound:  # refused before the code is used up
                raise BindingError("already_bound", "this customer is bound to another shop account")
            if not await self.services.writer.run_plan(use_code, found, customer_id, now()):
                raise BindingError("used", "the binding code has been used")
            await self.services.bind_customer(customer_id, found.shop_user_id)
        except BindingError as error:
            log.info("binding code refused", customer_id=customer_id, reason=error.code)
            return self.texts.render(f"binding.{error.code}", language)
        return self.texts.render("binding.done", language)

    async def bind_verified(self, message: dict[str, Any], profile: dict[str, Any] | None) -> None:
        """A customer the channel verified (signed widget visitor) is that shop account.

        The profile the channel sent with the message says whether it vouches for the sender, so
        most messages cost nothing; only one recovered after a restart (profile unknown) needs
        the stored identity's word.
        """
        if not vouched(profile):
            return
        user_id = await self.services.platform_user_id(message["conversation_id"])
        key = (message["channel"], message["account"], user_id)
        if key in self.checked:
            return
        identity = await CustomerIdentity.get_or_none(channel=key[0], account=key[1], platform_user_id=user_id)
        verified = (profile or {}).get(VERIFIED) or ((identity.profile or {}).get(VERIFIED) if identity else None)
        if identity is not None and verified:
            customer = await Customer.get_or_none(id=identity.customer_id)
            if customer is not None and customer.shop_user_id != verified:
                # The shop's own login outranks whatever this customer was bound to before.
                await self.services.bind_customer(customer.id, str(verified), replace=True)
        if len(self.checked) >= CHECKED_LIMIT:
            self.checked.clear()
        self.checked.add(key)

    def code_in(self, message: dict[str, Any]) -> str | None:
        """The binding code a customer's message sends, when codes are on."""
        if message["direction"] != "in" or not self.services.settings.customers.binding_secret:
            return None
        return bind_request(message["text"]) or None

    async def received(self, message: dict[str, Any], profile: dict[str, Any] | None) -> None:
        await self.bind_verified(message, profile)
        await self.code_to_a_person(message)

    async def code_to_a_person(self, message: dict[str, Any]) -> None:
        """While a person has the conversation the bot is silent; a binding code is still answered."""
        code = self.code_in(message)
        if code is None:
            return
        conversation = await Conversation.get_or_none(id=message["conversation_id"])
        if conversation is None or conversation.state not in ("queued", "assigned"):
            return  # the bot's turn: the reply handler answers
        answer = await self.bind_code(conversation.customer_id, code,
                                      self.services.language_for(conversation.channel, conversation.account))
        await self.services.say(conversation, answer)


class BindingReplies:
    """Answers `绑定 CODE` before any other reply handler."""

    name = "binding"
    priority = 1000

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.binder: Binder | None = None  # set at startup, once the gateway's services exist

    async def reply(self, context: ReplyContext) -> Reply | None:
        code = bind_request(context.text) if context.kind == "text" else None
        if code is None or self.binder is None or not self.settings.customers.binding_secret:
            return None
        return Reply(await self.binder.bind_code(context.customer_id, code, context.language), source="binding")


_binders: dict[int, Binder] = {}
# Every handler made for a gateway: at its start, the gateway's own (made with its settings) get
# its binder, without asking the gateway for its handlers.
_handlers: weakref.WeakSet[BindingReplies] = weakref.WeakSet()


@hookimpl
def csgw_models() -> list[str]:
    return MODULES


@hookimpl
def csgw_reply_handlers(settings: Settings) -> list[BindingReplies]:
    handler = BindingReplies(settings)
    _handlers.add(handler)
    return [handler]


@hookimpl
def csgw_startup(services: Gateway) -> None:
    binder = _binders[id(services)] = Binder(services)
    for handler in _handlers:
        if handler.settings is services.settings:
            handler.binder = binder


@hookimpl
def csgw_shutdown(services: Gateway) -> None:
    _binders.pop(id(services), None)


@hookimpl
def csgw_message_received(services: Gateway, message: dict[str, Any],
                          profile: dict[str, Any] | None) -> Awaitable[None] | None:
    binder = _binders.get(id(services))
    # most messages neither come from a vouched sender nor carry a code: nothing to await
    if binder is None or not (vouched(profile) or binder.code_in(message)):
        return None
    return binder.received(message, profile)


def vouched(profile: dict[str, Any] | None) -> bool:
    """Whether the channel may vouch for the sender (it said so; or unknown: recovered after a restart)."""
    return profile is None or bool(profile.get(VERIFIED))

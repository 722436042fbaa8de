"""The order bot's side of a conversation: answer an order question from the customer's orders,
ask which of several (the next message's number picks), ask an unknown customer for the order
number or a binding code, and pass an order in a bad state to a person.

What it waits for (a number, a choice) is kept in the conversation's bot memory under `orders`,
with a digest of the rest of the memory: another handler that changed its own part since (the
knowledge base showed its numbered menu) has the customer's attention, and the wait is over.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from csgw.gateway.reply import Reply, ReplyContext
from csgw.plugins.orders.answers import OrderAnswers
from csgw.plugins.orders.config import OrdersConfig
from csgw.plugins.orders.intents import IntentRecognizer, canonical
from csgw.plugins.orders.records import Order
from csgw.plugins.orders.sources import KnownOrders, OrderBook

if TYPE_CHECKING:
    from csgw.config.schema import Settings
    from csgw.gateway.ports import Gateway

STATE_KEY = "orders"
SOURCE = "orders"
_CHINESE_DIGITS = {c: n for n, c in enumerate("一二三四五六七八九", 1)}
_PICK = re.compile(r"(?:第|no|number|#)?\s*([1-9一二三四五六七八九])\s*(?:个|个订单|单|号|项)?")


def picked_number(text: str) -> int | None:
    """`2`, `第二个`, `２号`: the number of a choice, when that is all the message says."""
    found = _PICK.fullmatch(canonical(text))
    if found is None:
        return None
    digit = found.group(1)
    return _CHINESE_DIGITS.get(digit) or int(digit)


class OrderReplies:
    """The reply handler: asked before the knowledge base, it answers only order questions."""

    name = SOURCE
    priority = 500

    def __init__(self, settings: Settings, config: OrdersConfig) -> None:
        self.settings = settings
        self.config = config
        self.recognizer = IntentRecognizer(config.order_number_pattern, config.extra_phrases, config.ignore_phrases)
        self.answers = OrderAnswers(settings, config)
        self.book: OrderBook | None = None  # set at start, once the gateway's services exist

    def start(self, services: Gateway) -> None:
        self.book = OrderBook(services, self.config)

    async def reply(self, context: ReplyContext) -> Reply | None:
        if self.book is None or context.kind != "text" or not context.text.strip():
            return None
        waiting = self._waiting(context)
        question = self.recognizer.question(context.text)
        if waiting.get("ask") == "choice":
            choices = [str(c) for c in waiting.get("choices") or []]
            number = picked_number(context.text)
            if number is not None and number <= len(choices):
                return await self._about_number(context, waiting.get("intent", "status"), choices[number - 1])
            if number is not None:
                return self._reply(self.answers.say("pick_again", context.language, count=len(choices)),
                                   context, waiting)
            chosen = next((c for c in choices if question.order_no and question.order_no.upper() == c.upper()), None)
            if chosen is not None:
                return await self._about_number(context, waiting.get("intent", "status"), chosen)
        intent = question.intent
        if intent is None and question.order_no and waiting.get("ask") == "number":
            intent = waiting.get("intent", "status")
        if intent is not None:
            if question.order_no:
                return await self._about_number(context, intent, question.order_no)
            return await self._about_orders(context, intent)
        if question.bare_number and question.order_no:
            return await self._about_number(context, "status", question.order_no, quiet=True)
        return None

    async def _about_orders(self, context: ReplyContext, intent: str) -> Reply | None:
        """An order question naming no order: the customer's order, or which one, or who they are."""
        assert self.book is not None
        known = await self.book.known(context.customer_id)
        candidates = known.about(self.config.intent_statuses.get(intent, []))
        if len(candidates) == 1:
            return self._answer(context, intent, candidates[0])
        if candidates:
            offered = candidates[: self.config.max_choices]
            state = {"ask": "choice", "intent": intent, "choices": [order.order_no for order in offered]}
            return self._reply(self.answers.choices(offered, context.language), context, state)
        return self._ask(context, intent, known)

    def _ask(self, context: ReplyContext, intent: str, known: KnownOrders) -> Reply | None:
        """No order known: say why, and ask for what would find one."""
        assert self.book is not None
        state = {"ask": "number", "intent": intent}
        if known.unavailable:
            return self._reply(self.answers.say("unavailable", context.language), context, state)
        if known.listed:
            return self._reply(self.answers.say("none_known", context.language), context, state)
        can_bind = bool(self.settings.customers.binding_secret) and not known.bound
        if self.book.can_look_up:
            key = "ask_or_bind" if can_bind else "ask"
        elif can_bind:
            key = "ask_bind"
        else:
            return None  # nothing here can find this customer's orders: the knowledge base may help
        return self._reply(self.answers.say(key, context.language), context, state)

    async def _about_number(self, context: ReplyContext, intent: str, order_no: str,
                            quiet: bool = False) -> Reply | None:
        """The customer named an order: theirs if known, else the shop's lookup. `quiet`: a bare
        number nobody asked for, which stays unanswered unless it is an order."""
        assert self.book is not None
        if not self.book.can_look_up:
            order = (await self.book.known(context.customer_id)).find(order_no)
            if order is not None:
                return self._answer(context, intent, order)
            return None if quiet else self._missing(context, intent, order_no, "not_found")
        # Both at once: a slow shop costs the customer one time limit, not two.
        known, found = await asyncio.gather(self.book.known(context.customer_id),
                                            self.book.look_up(context.customer_id, order_no))
        order = known.find(order_no)
        if order is not None:
            return self._answer(context, intent, order)
        if found.order is not None:
            return self._answer(context, intent, found.order)
        if quiet and not (found.unavailable or found.refused):
            return None
        return self._missing(context, intent, order_no,
                             "too_many" if found.refused else "unavailable" if found.unavailable else "not_found")

    def _missing(self, context: ReplyContext, intent: str, order_no: str, key: str) -> Reply:
        text = self.answers.say(key, context.language, order_no=order_no)
        return self._reply(text, context, {"ask": "number", "intent": intent})

    def _answer(self, context: ReplyContext, intent: str, order: Order) -> Reply:
        text = self.answers.answer(order, intent, context.language)
        payload: dict[str, Any] = {"intent": intent, "order_no": order.order_no, "order_status": order.status}
        if order.status not in self.config.bad_statuses:
            return self._reply(text, context, None, payload=payload, entry_id=f"{SOURCE}:{intent}")
        handover = self.answers.say("handover", context.language)
        return self._reply(f"{text}\n{handover}", context, None, payload={**payload, "order": order.raw},
                           handover=True, priority=self.config.handover_priority, group=self.config.handover_group,
                           note=self.answers.note(order, intent, context.text))

    @staticmethod
    def _waiting(context: ReplyContext) -> dict[str, Any]:
        """What the bot waits for, unless another handler took the conversation on since."""
        waiting = context.bot_state.get(STATE_KEY)
        if not isinstance(waiting, dict) or waiting.get("others") != _digest(context.bot_state):
            return {}
        return waiting

    @staticmethod
    def _reply(text: str, context: ReplyContext, waiting: dict[str, Any] | None, **fields: Any) -> Reply:
        """A reply remembering what it waits for (None: nothing), leaving others' memory alone."""
        memory = {key: value for key, value in context.bot_state.items() if key != STATE_KEY}
        if waiting is not None:
            memory[STATE_KEY] = {**waiting, "others": _digest(memory)}
        return Reply(text, source=SOURCE, bot_state=memory, **fields)


def _digest(memory: dict[str, Any]) -> str:
    """A short digest of the bot memory other handlers keep."""
    others = {key: value for key, value in memory.items() if key != STATE_KEY}
    return hashlib.sha256(json.dumps(others, sort_keys=True, default=str).encode()).hexdigest()[:16]


"""The bot's words about orders, in the customer's language, the shop's wording first."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from csgw.config.schema import Settings
from csgw.config.texts import LANGUAGES
from csgw.gateway.clock import shop_time, shop_zone
from csgw.gateway.texts import Texts
from csgw.plugins.orders.config import OrdersConfig
from csgw.plugins.orders.records import Order
from csgw.plugins.orders.texts import NOTE_HEADINGS, STATUS_LABELS, TEXTS

HINTED = ("topup", "refund")  # questions about something missing: the answer says how to reach a person


class OrderAnswers:
    def __init__(self, settings: Settings, config: OrdersConfig) -> None:
        self.texts = Texts(TEXTS, settings.text_overrides)
        self.labels = {language: {**STATUS_LABELS[language], **config.status_labels.get(language, {})}
                       for language in LANGUAGES}
        self.zone = shop_zone(settings.server.timezone)
        self.shop_language = settings.server.language

    def say(self, key: str, language: str, **values: Any) -> str:
        return self.texts.render(f"orders.{key}", language, **values)

    def status(self, order: Order, language: str) -> str:
        return self.labels.get(language, {}).get(order.status, order.status) or "-"

    def describe(self, order: Order, intent: str, language: str) -> list[str]:
        """The lines about one order: number and status, item, carrier and tracking number, expected time."""
        lines = [self.say("order", language, order_no=order.order_no, status=self.status(order, language))]
        if order.title:
            lines.append(self.say("item", language, title=order.title))
        if order.tracking_no or order.carrier:
            lines.append(self.say("tracking", language, carrier=order.carrier, tracking_no=order.tracking_no).strip())
        elif intent == "shipping":
            lines.append(self.say("no_tracking", language))
        if order.eta:
            lines.append(self.say("eta", language, eta=self.time(order.eta)))
        return lines

    def answer(self, order: Order, intent: str, language: str) -> str:
        lines = self.describe(order, intent, language)
        if intent in HINTED:
            lines.append(self.say("more_help", language))
        return "\n".join(lines)

    def choices(self, orders: list[Order], language: str) -> str:
        rows = [self.say("choice", language, number=number, order_no=order.order_no,
                         status=self.status(order, language), title=order.title).rstrip()
                for number, order in enumerate(orders, 1)]
        return self.say("choose", language, count=len(orders), choices="\n".join(rows))

    def note(self, order: Order, intent: str, question: str) -> str:
        """The internal note for the agents, in the shop's language: what was asked, the order, its record."""
        language = self.shop_language
        record = json.dumps(order.raw, ensure_ascii=False, sort_keys=True, default=str)
        return "\n".join([f"{NOTE_HEADINGS.get(language, NOTE_HEADINGS['zh-Hans'])} · {intent}", f"> {question}",
                          *self.describe(order, intent, language), record])

    def time(self, value: str) -> str:
        """An ISO time with a zone in the shop's zone (`2026-11-26 18:05`); anything else as written."""
        try:
            stamp = datetime.fromisoformat(value)
        except ValueError:
            return value
        return shop_time(stamp, self.zone) if stamp.tzinfo is not None else value

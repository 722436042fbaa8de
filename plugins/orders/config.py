"""`[orders]`: how the bot reads the shop's orders and which ones go to a person."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from csgw.config.plugin_sections import ConfigSection
from csgw.config.texts import LANGUAGES
from csgw.plugins.orders.intents import INTENTS

# An order number: up to four letters, then 6-24 digits, standing alone (Chinese text around it
# counts as standing alone: `订单202405120001到哪了`).
DEFAULT_ORDER_NUMBER = r"(?<![A-Za-z0-9])[A-Za-z]{0,4}-?\d{6,24}(?![A-Za-z0-9])"


class OrderFields(ConfigSection):
    """Where each piece of an order is, as the shop's records name it: the first name present wins."""

    order_no: list[str] = Field(default_factory=lambda: ["order_id", "order_no", "id", "number"])
    status: list[str] = Field(default_factory=lambda: ["status", "state"])
    title: list[str] = Field(default_factory=lambda: ["title", "item", "product", "product_name", "name"])
    carrier: list[str] = Field(default_factory=lambda: ["carrier", "courier", "logistics_company", "express_company"])
    tracking_no: list[str] = Field(default_factory=lambda: ["tracking_no", "tracking_number", "waybill_no", "express_no"])
    eta: list[str] = Field(default_factory=lambda: ["eta", "expected_at", "expected_delivery", "estimated_delivery"])
    # the newest order is listed first: by the first of these present (ISO times compare as text)
    time: list[str] = Field(default_factory=lambda: ["updated_at", "created_at", "paid_at"])


class OrdersConfig(ConfigSection):
    enabled: bool = True
    order_number_pattern: str = DEFAULT_ORDER_NUMBER
    # An order in one of these states goes to a person, with the order in an internal note.
    bad_statuses: list[str] = Field(default_factory=lambda: ["topup_failed", "refund_overdue", "delivery_failed"])
    handover_priority: int = 10  # the priority of that hand-over (the complaint lane's, by default)
    handover_group: str | None = None  # where it goes, while an agent there is online
    max_choices: int = Field(5, ge=2, le=9)  # several orders: the newest this many are offered
    context_key: str = "orders"  # the key of `csgw_customer_context` answers holding the orders
    lookups_per_hour: int = Field(20, ge=0)  # order numbers one customer may look up (0: no limit)
    fields: OrderFields = Field(default_factory=OrderFields)
    # language -> status -> label; merged over the built-in labels (`texts.STATUS_LABELS`)
    status_labels: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Statuses an intent is about: with several orders, those in them are offered first.
    intent_statuses: dict[str, list[str]] = Field(default_factory=lambda: {
        "refund": ["refunding", "refund_pending", "refund_overdue", "refunded", "after_sale"],
        "topup": ["topup_pending", "topup_failed", "topup_done"]})
    extra_phrases: dict[str, list[str]] = Field(default_factory=dict)  # the shop's own wordings
    ignore_phrases: list[str] = Field(default_factory=list)  # never taken for an order question

    @field_validator("order_number_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"not a regular expression: {error}") from None
        return value

    @field_validator("intent_statuses", "extra_phrases")
    @classmethod
    def _intents(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(INTENTS))
        if unknown:
            raise ValueError(f"unknown intent {unknown[0]!r} (one of {', '.join(INTENTS)})")
        return value

    @field_validator("status_labels")
    @classmethod
    def _languages(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        unknown = sorted(set(value) - set(LANGUAGES))
        if unknown:
            raise ValueError(f"unknown language {unknown[0]!r} (one of {', '.join(LANGUAGES)})")
        return value

"""An order as the bot reads it, whatever the shop's record calls its fields (`[orders.fields]`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from csgw.plugins.orders.config import OrderFields


@dataclass(frozen=True, slots=True)
class Order:
    order_no: str
    status: str
    title: str
    carrier: str
    tracking_no: str
    eta: str
    time: str
    raw: dict[str, Any]

    def same_number(self, order_no: str) -> bool:
        return _key(self.order_no) == _key(order_no)


def _key(order_no: str) -> str:
    return order_no.replace("-", "").replace(" ", "").upper()


def _first(raw: dict[str, Any], names: list[str]) -> str:
    for name in names:
        value = raw.get(name)
        if value is not None and value != "":
            return str(value)
    return ""


def read_order(raw: object, fields: OrderFields, order_no: str = "") -> Order | None:
    """The order in one of the shop's records (`order_no`: its number, if the record does not say);
    None when it is no record or names no order."""
    if not isinstance(raw, dict):
        return None
    order_no = _first(raw, fields.order_no) or order_no
    if not order_no:
        return None
    return Order(order_no, _first(raw, fields.status), _first(raw, fields.title), _first(raw, fields.carrier),
                 _first(raw, fields.tracking_no), _first(raw, fields.eta), _first(raw, fields.time), raw)


def merged_orders(sources: Iterable[Iterable[object]], fields: OrderFields) -> list[Order]:
    """Orders from several sources (profile, then live), one per number, the later source's record
    winning; the newest first (by `fields.time`, else the later in its source)."""
    by_number: dict[str, tuple[int, Order]] = {}
    position = 0
    for records in sources:
        for raw in records:
            order = read_order(raw, fields)
            if order is not None:
                position += 1
                by_number[_key(order.order_no)] = (position, order)
    ranked = sorted(by_number.values(), key=lambda item: (item[1].time, item[0]), reverse=True)
    return [order for _, order in ranked]

"""Builtin orders plugin: the bot answers "where is my order", "tracking number", "my top-up has
not arrived" and "refund progress" from the customer's orders (`[orders]`, `docs/orders.md`)."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from csgw.gateway.hookspecs import hookimpl
from csgw.plugins.orders.config import OrdersConfig
from csgw.plugins.orders.replies import OrderReplies
from csgw.plugins.orders.texts import TEXTS

if TYPE_CHECKING:
    from csgw.config.plugin_sections import ConfigSection
    from csgw.config.schema import Settings
    from csgw.gateway.ports import Gateway

# Each gateway's handler by its settings' id, so its start hands the handler that gateway's services.
_handlers: weakref.WeakValueDictionary[int, OrderReplies] = weakref.WeakValueDictionary()


@hookimpl
def csgw_config_sections() -> dict[str, type[ConfigSection]]:
    return {"orders": OrdersConfig}


@hookimpl
def csgw_texts() -> dict[str, dict[str, str]]:
    return TEXTS


@hookimpl
def csgw_reply_handlers(settings: Settings) -> list[OrderReplies]:
    config = settings.section("orders", OrdersConfig)
    if not config.enabled:
        return []
    handler = _handlers[id(settings)] = OrderReplies(settings, config)
    return [handler]


@hookimpl
def csgw_startup(services: Gateway) -> None:
    handler = _handlers.get(id(services.settings))
    if handler is not None and handler.settings is services.settings:
        handler.start(services)

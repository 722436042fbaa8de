"""Every csgw hook: one definition each, with what it receives and returns.

pluggy cannot await. Hooks that do async work return objects (channel types, handlers) that
the host awaits itself, or return an awaitable that the host awaits in order.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("csgw")
hookimpl = pluggy.HookimplMarker("csgw")


@hookspec
def csgw_channel_types() -> list[type]:
    """Return `Channel` subclasses this plugin provides (each names its `plugin` and `Config`)."""


@hookspec
def csgw_reply_handlers(settings: Any) -> list[Any]:
    """Return `ReplyHandler` objects; the host asks them by priority, first answer wins."""


@hookspec
def csgw_assigners(settings: Any) -> list[Any]:
    """Return `Assigner` objects; the host asks them in priority order for an assignment decision."""


@hookspec
def csgw_classifiers(settings: Any) -> list[Any]:
    """Return `Classifier` objects that rate an inbound message's priority and flags."""


@hookspec
def csgw_health_checks(services: Any) -> list[Any]:
    """Return extra `HealthCheck` objects shown in `/healthz`, `/metrics` and `csgw health`."""


@hookspec
def csgw_routes(services: Any) -> list[Any]:
    """Return extra aiohttp route definitions (static pages, plugin APIs)."""


@hookspec
def csgw_cli(app: Any) -> None:
    """Add commands to the `csgw` Typer app."""


@hookspec
def csgw_startup(services: Any) -> Any:
    """Called once the store is open, before channels start; may return an awaitable."""


@hookspec
def csgw_shutdown(services: Any) -> Any:
    """Called while the gateway drains; may return an awaitable."""


@hookspec
def csgw_message_received(services: Any, message: Any, profile: Any) -> Any:
    """Observe a stored inbound message (`MessageView`); may return an awaitable.

    `profile` is what the channel sent about the sender with this message (nickname, a verified
    shop account id, …), or None when that is no longer known (a message recovered after a restart).
    """


@hookspec
def csgw_message_sent(services: Any, message: Any) -> Any:
    """Observe an outbound message that its channel accepted; may return an awaitable."""


@hookspec
def csgw_conversation_changed(services: Any, conversation: Any, change: str) -> Any:
    """Observe a conversation's state change (queued, assigned, closed, …); may return an awaitable."""


@hookspec
def csgw_health_changed(services: Any, check: str, old: str, new: str, detail: Any) -> Any:
    """Observe a health check moving between ok/degraded/down; may return an awaitable."""


@hookspec
def csgw_customer_context(services: Any, customer: Any) -> Any:
    """Given a customer's JSON view, return a dict (or an awaitable of one) merged into its `context`."""

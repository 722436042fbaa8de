"""Every csgw hook: one definition each, with what it receives and returns.

pluggy cannot await. Hooks that do async work return objects (channel types, handlers) that
the host awaits itself, or return an awaitable that the host awaits in order.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import typer
    from aiohttp import web
    from pydantic import BaseModel

    from csgw.config.schema import Settings
    from csgw.gateway.answers import ReplyOverride
    from csgw.gateway.api.routes import ApiRoute
    from csgw.gateway.channel import Channel
    from csgw.gateway.health_check import HealthCheck
    from csgw.gateway.knowledge import KnowledgeEntry
    from csgw.gateway.messages import OutboundMessage
    from csgw.gateway.models import Agent
    from csgw.gateway.ports import Gateway
    from csgw.gateway.reply import ReplyHandler
    from csgw.gateway.report_sections import ReportSection
    from csgw.gateway.routing import Assigner, Classifier

hookspec = pluggy.HookspecMarker("csgw")
hookimpl = pluggy.HookimplMarker("csgw")


@hookspec
def csgw_channel_types() -> list[type[Channel]]:
    """Return `Channel` subclasses this plugin provides (each names its `plugin` and `Config`)."""


@hookspec
def csgw_models() -> list[str]:
    """Modules of tortoise models this plugin owns. They form the plugin's own app (labelled with
    its name); their missing tables are created at start, after the core's schema upgrade. Later
    changes to them are the plugin's to make (in `csgw_startup`), as the core's are its own."""


@hookspec
def csgw_config_sections() -> dict[str, type[BaseModel]]:
    """Top-level `csgw.toml` tables this plugin owns: section name -> pydantic model (a core
    section's name is not allowed). Once plugins are loaded each is validated with its model (no
    table: `{}`) and tables no plugin claims are refused; read one with `settings.section(name, Model)`."""


@hookspec
def csgw_texts() -> dict[str, dict[str, str]]:
    """Customer-facing texts this plugin sends: key (dotted, e.g. "loyalty.points") -> language
    -> built-in template with `{name}` placeholders, "zh-Hans" required. `[texts.LANGUAGE]` may
    reword them (checked at start); render with `Texts(table, settings.text_overrides)`."""


@hookspec
def csgw_reply_handlers(settings: Settings) -> list[ReplyHandler]:
    """Return `ReplyHandler` objects; the host asks them by priority, first answer wins."""


@hookspec
def csgw_reply_overrides(services: Gateway) -> list[ReplyOverride]:
    """Return `ReplyOverride` objects: each sees every message's decided answer (reply and
    classification) before it is stored; the first `Reply` one returns is sent instead."""


@hookspec
def csgw_assigners(settings: Settings) -> list[Assigner]:
    """Return `Assigner` objects; the host asks them in priority order for an assignment decision."""


@hookspec
def csgw_classifiers(settings: Settings) -> list[Classifier]:
    """Return `Classifier` objects that rate an inbound message's priority and flags."""


@hookspec
def csgw_knowledge_search(
    services: Gateway, text: str, channel: str, account: str, limit: int,
) -> list[KnowledgeEntry] | Awaitable[list[KnowledgeEntry]] | None:
    """The knowledge-base entries nearest to `text` as asked from one channel account (entries
    meant for other channels left out), best first, at most `limit`, each with its answer for
    that channel (or an awaitable of them); the first plugin answering a non-empty list wins."""


@hookspec
def csgw_health_checks(services: Gateway) -> list[HealthCheck]:
    """Return extra `HealthCheck` objects shown in `/healthz`, `/metrics` and `csgw health`."""


@hookspec
def csgw_routes(services: Gateway) -> list[web.AbstractRouteDef | ApiRoute]:
    """Return extra aiohttp route definitions (static pages) and `ApiRoute`s (under `/api/v1`)."""


@hookspec
def csgw_report_sections(settings: Settings) -> list[ReportSection]:
    """Return `ReportSection` objects whose figures `csgw report` and `GET /api/v1/reports` add."""


@hookspec
def csgw_cli(app: typer.Typer) -> None:
    """Add commands to the `csgw` Typer app."""


@hookspec
def csgw_startup(services: Gateway) -> Awaitable[None] | None:
    """Called once the store is open, before channels start; may return an awaitable."""


@hookspec
def csgw_shutdown(services: Gateway) -> Awaitable[None] | None:
    """Called while the gateway drains; may return an awaitable."""


@hookspec
def csgw_message_received(
    services: Gateway, message: dict[str, Any], profile: dict[str, Any] | None,
) -> Awaitable[None] | None:
    """Observe a stored inbound message (its JSON view); may return an awaitable.

    `profile` is what the channel sent about the sender with this message (nickname, a verified
    shop account id, …), or None when that is no longer known (a message recovered after a restart).
    """


@hookspec
def csgw_message_sent(services: Gateway, message: OutboundMessage) -> Awaitable[None] | None:
    """Observe an outbound message that its channel accepted; may return an awaitable."""


@hookspec
def csgw_conversation_changed(
    services: Gateway, conversation: dict[str, Any], change: str,
) -> Awaitable[None] | None:
    """Observe a conversation's state change (its JSON view; queued, assigned, closed, …); may return an awaitable."""


@hookspec
def csgw_health_changed(
    services: Gateway, check: str, old: str, new: str, detail: dict[str, Any],
) -> Awaitable[None] | None:
    """Observe a health check moving between ok/degraded/down; may return an awaitable."""


@hookspec
def csgw_agent_seen(services: Gateway, agent: Agent) -> Awaitable[None] | None:
    """An agent asked for `/me` or sent a heartbeat (`agent`: their record, `last_seen_at` just
    set); change their status through `services.conversations` before the answer; may return an awaitable."""


@hookspec
def csgw_customer_context(
    services: Gateway, customer: dict[str, Any],
) -> dict[str, Any] | Awaitable[dict[str, Any] | None] | None:
    """Given a customer's JSON view, return a dict (or an awaitable of one) merged into its `context`."""


@hookspec
def csgw_suggested_questions(services: Gateway, channel: str, account: str) -> list[str] | None:
    """Questions to offer a customer of one channel account before they ask (the site widget's
    welcome chips); the first plugin returning a non-empty list wins. Called as a visitor
    connects: answer from memory, never do I/O."""


@hookspec
def csgw_order_lookup(
    services: Gateway, order_no: str, customer: dict[str, Any],
) -> dict[str, Any] | Awaitable[dict[str, Any] | None] | None:
    """Find one order by the number a customer gave (`customer`: the asker's JSON view, bound or
    not): the order as a dict (or an awaitable of one), None when not found or not theirs to see.
    Awaited at most `[customers] context_timeout_seconds`; the first order found wins."""

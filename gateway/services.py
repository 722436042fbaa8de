"""Everything a running gateway holds, built in order and torn down in reverse.

Channels, plugins and API handlers get this one object; nothing else is global.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from csgw.config.errors import ConfigError
from csgw.config.loader import validate_plugin_sections, validate_section
from csgw.config.schema import Settings
from csgw.gateway.api.routes import ApiRoute
from csgw.gateway.binding import bind
from csgw.gateway.bus import Bus, Transport
from csgw.gateway.channel import Channel, ChannelConfigError, ChannelNotReady
from csgw.gateway.channel_start import keep_starting, not_ready
from csgw.gateway.conversations import ConversationService
from csgw.gateway.customer_events import announce_customer_change, holder_of
from csgw.gateway.events import EventBus
from csgw.gateway.health_check import HealthCheck
from csgw.gateway.knowledge import KnowledgeEntry
from csgw.gateway.leadership import SoloLeadership
from csgw.gateway.messages import Accepted, DraftReply, InboundMessage, OutboundMessage
from csgw.gateway.models import ChannelAccount, Customer, Message
from csgw.gateway.orders import attach_order_plan
from csgw.gateway.outbox import Outbox
from csgw.gateway.outbox_claims import OutboxClaims, instance_name
from csgw.gateway.pipeline import Pipeline
from csgw.gateway.plugin_host import PluginHost
from csgw.gateway.ratings import record_rating
from csgw.gateway.redis_bus import RedisTransport
from csgw.gateway.redis_limits import RedisLimits
from csgw.gateway.shared_limits import FailOpen, MemoryLimits, SharedLimitsBackend
from csgw.gateway.shop_lookups import LiveContext, OrderLookup, hook_customer_view
from csgw.gateway.storage.cursors import CursorStore
from csgw.gateway.storage.db import close_database, is_sqlite, open_database, plan_runner
from csgw.gateway.storage.pg_assignment_lock import ClusterAssignmentLock
from csgw.gateway.storage.pg_bus import PostgresTransport
from csgw.gateway.storage.pg_leadership import PostgresLeadership
from csgw.gateway.storage.pg_limits import PostgresLimits
from csgw.gateway.storage.records import ConversationState
from csgw.gateway.storage.store import MessageStore
from csgw.gateway.storage.unavailable import STORE_UNAVAILABLE, StoreWrites
from csgw.gateway.storage.writer import GroupCommitWriter
from csgw.gateway.timers import Timers
from csgw.gateway.views import message_view

log = structlog.get_logger("csgw")


def build_channels(settings: Settings, host: PluginHost, services: GatewayServices) -> dict[tuple[str, str], Channel]:
    """Instantiate every enabled `[[channels]]` entry; all config mistakes reported together."""
    types = host.channel_types()
    channels: dict[tuple[str, str], Channel] = {}
    problems: list[str] = []
    for index, entry in enumerate(settings.channels):
        plugin = entry.get("plugin")
        if plugin not in types:
            known = ", ".join(sorted(types)) or "none"
            problems.append(f"channels[{index}].plugin: unknown channel plugin {plugin!r} (known: {known})")
            continue
        cls = types[plugin][0]
        try:
            config = validate_section(cls.Config, entry, settings.source_path, f"channels[{index}]")
        except ConfigError as error:
            problems.extend(error.problems)
            continue
        if config.enabled:
            channels[(plugin, config.account)] = cls(config, services)
    if problems:
        raise ConfigError(settings.source_path, problems)
    return channels


EVENTS_TOPIC = "events"


def bus_transport(settings: Settings) -> Transport | None:
    """Redis when `[bus] url` names it; else the store's own LISTEN/NOTIFY on PostgreSQL; none on
    SQLite, which one process owns."""
    if settings.bus.url:
        return RedisTransport(settings.bus.url)
    if is_sqlite(settings.database.url):
        return None
    return PostgresTransport(settings.database.url)


def limits_for(settings: Settings) -> SharedLimitsBackend:
    """Kept where the bus is: Redis when `[bus] url` names it, else the PostgreSQL store; in memory
    with SQLite, which one process owns."""
    if settings.bus.url:
        return FailOpen(RedisLimits(settings.bus.url))
    if is_sqlite(settings.database.url):
        return MemoryLimits()
    return FailOpen(PostgresLimits())


def leadership_for(settings: Settings, instance: str) -> SoloLeadership | PostgresLeadership:
    """Advisory locks on PostgreSQL, where instances may share the store; SQLite's one process leads all."""
    retry = settings.database.leader_retry_seconds
    if is_sqlite(settings.database.url):
        return SoloLeadership(retry)
    return PostgresLeadership(settings.database.url, retry_seconds=retry, instance=instance)


def assignment_lock_for(settings: Settings) -> ClusterAssignmentLock | None:
    """Assignments across instances on PostgreSQL; SQLite's one process has only its own lock."""
    return None if is_sqlite(settings.database.url) else ClusterAssignmentLock(settings.database.url)


class GatewayServices:
    """The running gateway: it satisfies the `Gateway` port plugins are handed (`gateway/ports.py`)
    and wires the core's parts, each handed only the collaborators it uses."""

    def __init__(self, settings: Settings, host: PluginHost) -> None:
        # before any hook reads settings: plugins' sections and the shop's wording of their texts
        validate_plugin_sections(settings, host.config_sections(), host.texts())
        self.settings = settings
        self.host = host
        self.log = log
        self.instance = instance_name()
        self.bus = Bus(self.instance, bus_transport(settings))
        self.events = EventBus(relay=self._relay_event if self.bus.shared else None)
        self.bus.subscribe(EVENTS_TOPIC, self.events.deliver)
        self.writer = GroupCommitWriter(settings.database.max_batch)
        self.store = MessageStore(self.writer, survey_window=settings.reply.survey_window_seconds,
                                  comment_window=settings.reply.comment_window_seconds)
        self.cursors = CursorStore(self.writer)
        self.leadership = leadership_for(settings, self.instance)  # once-per-cluster work
        self.limits = limits_for(settings)  # rate limits and replay guards of the whole cluster
        self.timers = Timers(self.leadership)  # plugins' periodic jobs, started in csgw_startup
        self.reply_handlers = host.reply_handlers(settings)
        self.assigners = host.assigners(settings)
        self.classifiers = host.classifiers(settings)
        self.http: aiohttp.ClientSession | None = None
        self.channels = build_channels(settings, host, self)
        self.channel_types = {plugin: cls for plugin, (cls, _) in host.channel_types().items()}
        claims = OutboxClaims(self.writer, shared=not is_sqlite(settings.database.url), instance=self.instance,
                              lease_seconds=settings.database.outbox_lease_seconds)
        self.outbox = Outbox(self.writer, self.store, self.channels, on_result=self._on_send_result, claims=claims)
        self.assignment_lock = assignment_lock_for(settings)  # one assignment at a time in the cluster
        self.conversations = ConversationService(
            settings, self.store, self.writer, self.events, self.outbox, self.assigners, self.channels,
            hooks=host, gateway=self, cluster_lock=self.assignment_lock)
        self.pipeline = Pipeline(
            settings, self.store, self.writer, self.events, self.outbox, self.conversations,
            replies=self.reply_handlers, classifiers=self.classifiers, hooks=host, gateway=self,
            overrides=host.reply_overrides(self))
        self.started = False
        self.extra_health_checks: list[HealthCheck] = []
        self.store_writes = StoreWrites()
        self._background: set[asyncio.Task[None]] = set()
        self._starters: set[asyncio.Task[None]] = set()  # channels not ready at start-up, retried

    @property
    def stopping(self) -> bool:
        """A stop has begun: /readyz turns traffic away, stalled answers wait for the next start."""
        return self.pipeline.stopping

    @stopping.setter
    def stopping(self, value: bool) -> None:
        self.pipeline.stopping = value

    async def accept(self, inbound: InboundMessage, *, wait_reply: float | None = None) -> Accepted:
        """Store an inbound message durably (deduplicated) and answer it; see `Pipeline.accept`."""
        try:
            accepted = await self.pipeline.accept(inbound, wait_reply=wait_reply)
        except STORE_UNAVAILABLE:
            self.store_writes.refused()
            raise
        self.store_writes.stored()
        return accepted

    async def attach_order(self, channel: str, account: str, user_id: str, update: dict[str, str]) -> int:
        """Fold an order push into the customer's profile (see `gateway/orders.py`); the customer's id."""
        customer_id = await self.writer.run_plan(attach_order_plan, channel, account, user_id, update)
        self.store.customer_changed(customer_id)  # a message that created it no longer speaks for it
        if self.events.listening:
            customer = await Customer.get(id=customer_id)
            announce_customer_change(self.events, None, customer, changed=["orders"])
        return customer_id

    def channel(self, plugin: str, account: str) -> Channel | None:
        return self.channels.get((plugin, account))

    def language_for(self, channel: str, account: str) -> str:
        return self.settings.language_for(channel, account)

    def suggested_questions(self, channel: str, account: str) -> list[str]:
        return self.host.suggested_questions(self, channel, account)

    async def platform_user_id(self, conversation_id: int) -> str:
        return await self.store.platform_user_id_for(conversation_id)

    async def rate(self, conversation_id: int, score: int, comment: str | None = None) -> None:
        await record_rating(self.writer, self.events, conversation_id, score, comment)

    async def mark_undelivered(self, message_id: int, error: str, code: str | None = None) -> None:
        await self.outbox.mark_undelivered(message_id, error, code)

    async def say(self, conversation: ConversationState, text: str) -> None:
        await self.store.store_replies(conversation, [DraftReply(text, "system")])
        self.outbox.wake()

    def _relay_event(self, event: dict[str, Any]) -> None:
        self.bus.relay(EVENTS_TOPIC, event)

    async def knowledge(self, text: str, channel: str, account: str, limit: int = 3) -> list[KnowledgeEntry]:
        return await self.host.knowledge_search(self, text, channel, account, limit)

    async def bind_customer(self, customer_id: int, shop_user_id: str, *, replace: bool = False) -> None:
        before = await Customer.get_or_none(id=customer_id)
        holder = await holder_of(shop_user_id, customer_id)
        after = await bind(self.writer, self.store, customer_id, shop_user_id, replace=replace)
        announce_customer_change(self.events, before, after, merged_customer_id=holder)

    async def customer_context(self, customer_id: int) -> LiveContext:
        if not self.host.customer_context_plugins():  # nobody to ask: no need to read the customer
            return LiveContext({})
        customer = await hook_customer_view(customer_id)
        if customer is None:
            return LiveContext({})
        return await self.host.live_context(self, customer, timeout=self.settings.customers.context_timeout_seconds)

    async def look_up_order(self, order_no: str, customer_id: int) -> OrderLookup:
        customer = await hook_customer_view(customer_id) or {"id": customer_id}
        return await self.host.order_lookup(self, order_no, customer,
                                            timeout=self.settings.customers.context_timeout_seconds)

    def order_lookup_plugins(self) -> tuple[str, ...]:
        return self.host.order_lookup_plugins()

    async def start(self) -> None:
        """Store first, then plugins (knowledge base loaded), then unanswered messages, then
        channels: nothing reaches the pipeline before the plugins it needs are ready."""
        await open_database(self.settings.database.url, self.host.models())
        self.writer.start(plan_runner(self.settings.database.url))
        await self.bus.start()
        await self.limits.start()
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        for plugin, account in self.channels:
            await ChannelAccount.get_or_create(plugin=plugin, account=account)
        self.started = True
        await self.host.startup(self)
        self.outbox.start()
        await self.pipeline.recover()
        for (plugin, account), channel in self.channels.items():
            try:
                await channel.start()
            except ChannelConfigError as error:
                raise ConfigError(self.settings.source_path, [f"channels {plugin}/{account}: {error}"]) from None
            except ChannelNotReady as error:
                not_ready(channel, error)
                log.warning("channel not ready, it will retry", channel=plugin, account=account, error=str(error))
                self._starters.add(asyncio.create_task(keep_starting(channel), name=f"start-{plugin}-{account}"))
        self.extra_health_checks = self.host.health_checks(self)
        log.info("gateway started", channels=[f"{p}/{a}" for p, a in self.channels])

    async def begin_shutdown(self) -> None:
        """First step of a stop: end long-lived sockets so the HTTP server can drain."""
        self.stopping = True
        self.events.close()
        for channel in self.channels.values():
            try:
                await channel.close_connections()
            except Exception:
                log.exception("closing channel connections failed", channel=channel.plugin, account=channel.account)

    async def stop(self) -> None:
        """Drain: finish answering, stop channels, deliver what can be, commit, close."""
        if not self.started:
            await close_database()
            return
        await self.timers.stop()
        await self.host.shutdown(self)
        await self.pipeline.drain()
        for task in self._starters:
            task.cancel()
        await asyncio.gather(*self._starters, return_exceptions=True)
        for channel in self.channels.values():
            try:
                await channel.stop()
            except Exception:
                log.exception("channel stop failed", channel=channel.plugin, account=channel.account)
        await self.outbox.stop()
        await self.leadership.stop()
        if self.assignment_lock is not None:
            await self.assignment_lock.close()
        await self.bus.stop()
        await self.limits.stop()
        await self.writer.close()
        if self.http:
            await self.http.close()
        await close_database()
        self.started = False
        log.info("gateway stopped")

    def app_routes(self) -> tuple[list[web.AbstractRouteDef], list[ApiRoute]]:
        """(plain routes, agent-API routes) from channel types and `csgw_routes` plugins."""
        routes: list[web.AbstractRouteDef] = []
        for plugin in sorted({p for p, _ in self.channels} | set(self.channel_types)):
            cls = self.channel_types[plugin]
            routes.extend(cls.app_routes(self))
        extra = self.host.routes(self)
        api = [route for route in extra if isinstance(route, ApiRoute)]
        return routes + [route for route in extra if not isinstance(route, ApiRoute)], api

    def _run_in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_send_result(self, result: str, message: OutboundMessage | Message, **detail: Any) -> None:
        # The outbox reports a send with the message it sent, a failure with the stored record.
        if result == "sent" and isinstance(message, OutboundMessage):
            self._run_in_background(self.host.message_sent(self, message))
        elif result == "failed" and isinstance(message, Message):
            view = message_view(message)
            view["delivery"] = "failed"
            self.events.publish("message.updated", view)

"""The plugin manager factory and the typed host every core call into plugins goes through."""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import inspect
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pluggy
import structlog

from csgw.config.loader import CORE_SECTIONS
from csgw.gateway import hookspecs
from csgw.gateway.answers import Decision, ReplyOverride
from csgw.gateway.channel import Channel
from csgw.gateway.messages import OutboundMessage
from csgw.gateway.reply import Reply, ReplyContext, ReplyHandler
from csgw.gateway.shop_lookups import LiveContext, OrderLookup
from csgw.gateway.texts import TEXTS, malformed_text

if TYPE_CHECKING:
    import typer
    from aiohttp import web
    from pydantic import BaseModel

    from csgw.config.schema import Settings
    from csgw.gateway.api.routes import ApiRoute
    from csgw.gateway.health_check import HealthCheck
    from csgw.gateway.knowledge import KnowledgeEntry
    from csgw.gateway.models import Agent
    from csgw.gateway.ports import Gateway
    from csgw.gateway.report_sections import ReportSection
    from csgw.gateway.routing import Assigner, Classifier

log = structlog.get_logger(__name__)

ENTRY_POINT_GROUP = "csgw"
CORE_TEXTS_OWNER = "csgw"  # who `csgw texts list` says registered the core's own texts


@dataclass(frozen=True, slots=True)
class PluginInfo:
    name: str
    source: str  # builtin, entry point, path
    module: str
    distribution: str | None
    enabled: bool
    hooks: tuple[str, ...]


def entry_points() -> list[importlib.metadata.EntryPoint]:
    return sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)


def get_plugin_manager(
    *, load_entrypoints: bool = True, disabled: Iterable[str] = (), paths: Iterable[str] = (),
    extra: Iterable[tuple[str, object]] = (), only_distribution: str | None = None,
) -> pluggy.PluginManager:
    """Build a fresh manager: entry-point plugins (builtins included), local paths, extras.

    `only_distribution` keeps the entry points of one installed distribution (the test harness
    passes "csgw": its builtins, none of whatever else the environment has installed)."""
    pm = pluggy.PluginManager("csgw")
    pm.add_hookspecs(hookspecs)
    for name in disabled:
        pm.set_blocked(name)
    if load_entrypoints:
        for ep in entry_points():
            if pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
                continue
            if only_distribution and (ep.dist is None or ep.dist.name != only_distribution):
                continue
            try:
                pm.register(ep.load(), name=ep.name)
            except Exception as error:
                log.error("plugin failed to load", plugin=ep.name, error=repr(error))
    for path in paths:
        _register_path(pm, path)
    for name, plugin in extra:
        if not pm.is_blocked(name):
            pm.register(plugin, name=name)
    pm.check_pending()
    return pm


def plugin_host_for(settings: Settings) -> PluginHost:
    """The plugins `settings` asks for: every installed one but `[plugins] disabled`, and `paths`."""
    return PluginHost(get_plugin_manager(disabled=settings.plugins.disabled, paths=settings.plugins.paths))


def _register_path(pm: pluggy.PluginManager, path: str) -> None:
    """A local plugin: a .py file or a package folder, registered under its stem."""
    location = Path(path).expanduser().resolve()
    name = location.stem
    if pm.is_blocked(name) or pm.has_plugin(name):
        return
    parent = str(location.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    try:
        pm.register(importlib.import_module(name), name=name)
    except Exception as error:
        log.error("local plugin failed to load", plugin=name, path=str(location), error=repr(error))


class PluginHost:
    """One method per hook family, so core code never calls `pm.hook.x(**kw)` itself."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    def channel_types(self) -> dict[str, tuple[type[Channel], str]]:
        """plugin type name -> (Channel subclass, the plugin that registered it)."""
        found: dict[str, tuple[type[Channel], str]] = {}
        for impl in self.pm.hook.csgw_channel_types.get_hookimpls():
            types = cast("list[type[Channel]] | None", impl.function())  # pluggy returns plain objects
            for cls in types or []:
                if cls.plugin in found:
                    log.warning("channel type registered twice; first wins", channel=cls.plugin,
                                plugin=impl.plugin_name, kept=found[cls.plugin][1])
                    continue
                found[cls.plugin] = (cls, impl.plugin_name)
        return found

    def models(self) -> dict[str, list[str]]:
        """plugin name -> the modules of the tortoise models it owns (see `csgw_models`)."""
        found: dict[str, list[str]] = {}
        for impl in self.pm.hook.csgw_models.get_hookimpls():
            modules = cast("list[str] | None", impl.function())
            if modules:
                found[impl.plugin_name] = list(modules)
        return found

    def config_sections(self) -> dict[str, type[BaseModel]]:
        """section name -> the model a loaded plugin declared for it (`csgw_config_sections`).
        A core section's name is never a plugin's; a name declared twice keeps the first."""
        found: dict[str, tuple[type[BaseModel], str]] = {}
        for impl in self.pm.hook.csgw_config_sections.get_hookimpls():
            sections = cast("dict[str, type[BaseModel]] | None", impl.function())
            for name, model in (sections or {}).items():
                if name in CORE_SECTIONS:
                    log.warning("plugin config section has a core section's name; ignored",
                                section=name, plugin=impl.plugin_name)
                elif name in found:
                    log.warning("config section declared twice; first wins", section=name,
                                plugin=impl.plugin_name, kept=found[name][1])
                else:
                    found[name] = (model, impl.plugin_name)
        return {name: model for name, (model, _) in found.items()}

    def text_tables(self) -> dict[str, dict[str, Mapping[str, str]]]:
        """plugin name -> the customer-facing texts it registered (`csgw_texts`), the core's first
        (as "csgw"). A key registered twice keeps the first; a malformed text is left out (both
        logged)."""
        tables: dict[str, dict[str, Mapping[str, str]]] = {CORE_TEXTS_OWNER: dict(TEXTS)}
        owners = dict.fromkeys(TEXTS, CORE_TEXTS_OWNER)
        for impl in self.pm.hook.csgw_texts.get_hookimpls():
            table = cast("dict[str, Any] | None", impl.function())
            for key, variants in (table or {}).items():
                problem = malformed_text(key, variants)
                if problem:
                    log.warning("plugin text left out", text=key, plugin=impl.plugin_name, problem=problem)
                elif key in owners:
                    log.warning("text registered twice; first wins", text=key, plugin=impl.plugin_name,
                                kept=owners[key])
                else:
                    owners[key] = impl.plugin_name
                    tables.setdefault(impl.plugin_name, {})[key] = variants
        return tables

    def texts(self) -> dict[str, Mapping[str, str]]:
        """Every built-in customer-facing text, the core's and the loaded plugins': key -> language
        -> template (what `[texts.*]` is checked against)."""
        return {key: variants for table in self.text_tables().values() for key, variants in table.items()}

    def reply_handlers(self, settings: Settings) -> list[ReplyHandler]:
        """Handlers by priority (config overrides a handler's own), disabled ones left out."""
        reply = settings.reply
        handlers = [h for h in _flatten(self.pm.hook.csgw_reply_handlers(settings=settings))
                    if h.name not in reply.disabled]
        return sorted(handlers, key=lambda h: reply.priorities.get(h.name, h.priority), reverse=True)

    def reply_overrides(self, services: Gateway) -> list[ReplyOverride]:
        """In plugin order (as registered), which `override_reply` keeps: the first answer wins."""
        found: list[ReplyOverride] = []
        for impl in self.pm.hook.csgw_reply_overrides.get_hookimpls():
            arguments = {"services": services}
            overrides = impl.function(**{name: arguments[name] for name in impl.argnames})
            found.extend(cast("list[ReplyOverride] | None", overrides) or [])
        return found

    def report_sections(self, settings: Settings) -> list[ReportSection]:
        return _flatten(self.pm.hook.csgw_report_sections(settings=settings))

    def assigners(self, settings: Settings) -> list[Assigner]:
        assigners: list[Assigner] = _flatten(self.pm.hook.csgw_assigners(settings=settings))
        return sorted(assigners, key=lambda a: getattr(a, "priority", 0), reverse=True)

    def classifiers(self, settings: Settings) -> list[Classifier]:
        return _flatten(self.pm.hook.csgw_classifiers(settings=settings))

    def health_checks(self, services: Gateway) -> list[HealthCheck]:
        return _flatten(self.pm.hook.csgw_health_checks(services=services))

    def routes(self, services: Gateway) -> list[web.AbstractRouteDef | ApiRoute]:
        return _flatten(self.pm.hook.csgw_routes(services=services))

    async def knowledge_search(self, services: Gateway, text: str, channel: str, account: str,
                               limit: int) -> list[KnowledgeEntry]:
        """The first non-empty answer of `csgw_knowledge_search`, in plugin order; a failing plugin
        is logged and passed over."""
        arguments = {"services": services, "text": text, "channel": channel, "account": account, "limit": limit}
        for impl in reversed(self.pm.hook.csgw_knowledge_search.get_hookimpls()):
            try:
                found = impl.function(**{name: arguments[name] for name in impl.argnames})
                if inspect.isawaitable(found):
                    found = await found
                found = cast("list[KnowledgeEntry] | None", found)
            except Exception:
                log.exception("knowledge search failed", plugin=impl.plugin_name, channel=channel, account=account)
                continue
            if found:
                return list(found)[:limit]
        return []

    def add_cli(self, app: typer.Typer) -> None:
        self.pm.hook.csgw_cli(app=app)

    # The observation hooks, one typed method each; `notify` awaits what they return.
    async def startup(self, services: Gateway) -> None:
        await self.notify("csgw_startup", services=services)

    async def shutdown(self, services: Gateway) -> None:
        await self.notify("csgw_shutdown", services=services)

    async def message_received(self, services: Gateway, message: dict[str, Any],
                               profile: dict[str, Any] | None) -> None:
        await self.notify("csgw_message_received", services=services, message=message, profile=profile)

    async def message_sent(self, services: Gateway, message: OutboundMessage) -> None:
        await self.notify("csgw_message_sent", services=services, message=message)

    async def conversation_changed(self, services: Gateway, conversation: dict[str, Any], change: str) -> None:
        await self.notify("csgw_conversation_changed", services=services, conversation=conversation,
                          change=change)

    async def health_changed(self, services: Gateway, check: str, old: str, new: str,
                             detail: dict[str, Any]) -> None:
        await self.notify("csgw_health_changed", services=services, check=check, old=old, new=new,
                          detail=detail)

    async def agent_seen(self, services: Gateway, agent: Agent) -> None:
        await self.notify("csgw_agent_seen", services=services, agent=agent)

    async def first_reply(self, handlers: list[ReplyHandler], context: ReplyContext) -> Reply | None:
        """Ask handlers in order; the first non-None answer wins (pluggy's firstresult cannot await)."""
        for handler in handlers:
            try:
                reply = await handler.reply(context)
            except Exception:
                log.exception("reply handler failed", handler=handler.name,
                              conversation_id=context.conversation_id)
                continue
            if reply is not None:
                return reply
        return None

    async def override_reply(self, overrides: list[ReplyOverride], decision: Decision) -> Reply | None:
        """Every override sees the decision; the first `Reply` one returns, or None."""
        chosen = None
        for override in overrides:
            try:
                reply = await override.override(decision)
            except Exception:
                log.exception("reply override failed", override=override.name,
                              conversation_id=decision.context.conversation_id)
                continue
            if chosen is None:
                chosen = reply
        return chosen

    async def notify(self, hook: str, **kwargs: Any) -> None:
        """Call an observation hook; await whatever implementations return; never raise."""
        try:
            results = getattr(self.pm.hook, hook)(**kwargs)
        except Exception:
            log.exception("observation hook failed", hook=hook)
            return
        awaitables = [r for r in results if inspect.isawaitable(r)]
        if len(awaitables) == 1:  # the usual case: awaited in place, no task to schedule
            outcomes = [await _outcome(awaitables[0])]
        else:
            outcomes = await asyncio.gather(*awaitables, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                log.error("observation hook failed", hook=hook, error=repr(outcome))

    async def customer_context(self, services: Gateway, customer: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        """What `csgw_customer_context` plugins know (live orders, …), merged in plugin order."""
        return (await self.live_context(services, customer, timeout=timeout)).context

    async def live_context(self, services: Gateway, customer: dict[str, Any], *, timeout: float) -> LiveContext:
        """`customer_context`, and which plugins failed or were too slow to say."""
        context: dict[str, Any] = {}
        failed = []
        for plugin, outcome in await self._ask_each("csgw_customer_context", timeout, services=services,
                                                    customer=customer):
            if isinstance(outcome, BaseException):
                log.error("customer context failed", plugin=plugin, customer_id=customer.get("id"),
                          error=repr(outcome))
                failed.append(plugin)
            elif isinstance(outcome, dict):
                context.update(outcome)
            elif outcome is not None:
                log.warning("customer context is not an object", plugin=plugin)
        return LiveContext(context, tuple(failed))

    async def order_lookup(self, services: Gateway, order_no: str, customer: dict[str, Any], *,
                           timeout: float) -> OrderLookup:
        """The first order `csgw_order_lookup` plugins find by its number, in pluggy's call order
        (the plugin registered last first)."""
        found: dict[str, Any] | None = None
        failed = []
        for plugin, outcome in await self._ask_each("csgw_order_lookup", timeout, services=services,
                                                    order_no=order_no, customer=customer):
            if isinstance(outcome, BaseException):
                log.error("order lookup failed", plugin=plugin, customer_id=customer.get("id"), error=repr(outcome))
                failed.append(plugin)
            elif isinstance(outcome, dict):
                found = found or outcome
            elif outcome is not None:
                log.warning("order lookup answer is not an object", plugin=plugin)
                failed.append(plugin)
        return OrderLookup(found, tuple(failed))

    def customer_context_plugins(self) -> tuple[str, ...]:
        """Plugins that say what the shop knows live about a customer (`csgw_customer_context`)."""
        return tuple(impl.plugin_name for impl in reversed(self.pm.hook.csgw_customer_context.get_hookimpls()))

    def order_lookup_plugins(self) -> tuple[str, ...]:
        """Plugins that find orders by number (`csgw_order_lookup`)."""
        return tuple(impl.plugin_name for impl in reversed(self.pm.hook.csgw_order_lookup.get_hookimpls()))

    async def _ask_each(self, hook: str, timeout: float, **arguments: Any) -> list[tuple[str, Any]]:
        """Every implementation of a lookup hook at once, each within `timeout`: (plugin, answer
        or the exception it raised), in plugin order."""
        impls = list(reversed(getattr(self.pm.hook, hook).get_hookimpls()))

        async def one(impl: Any) -> Any:
            result = impl.function(**{name: arguments[name] for name in impl.argnames})
            return await asyncio.wait_for(result, timeout) if inspect.isawaitable(result) else result

        outcomes = await asyncio.gather(*(one(impl) for impl in impls), return_exceptions=True)
        return [(impl.plugin_name, outcome) for impl, outcome in zip(impls, outcomes, strict=True)]

    def suggested_questions(self, services: Gateway, channel: str, account: str) -> list[str]:
        """The first non-empty list of `csgw_suggested_questions`, in plugin order; a failing
        plugin is logged and passed over."""
        for impl in reversed(self.pm.hook.csgw_suggested_questions.get_hookimpls()):
            arguments = {"services": services, "channel": channel, "account": account}
            try:
                questions = cast("list[str] | None", impl.function(**{name: arguments[name] for name in impl.argnames}))
            except Exception:
                log.exception("suggested questions failed", plugin=impl.plugin_name, channel=channel,
                              account=account)
                continue
            if questions:
                return [str(question) for question in questions]
        return []

    def plugins(self) -> list[PluginInfo]:
        dists = {ep.name: ep for ep in entry_points()}
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            ep = dists.get(name)
            dist = ep.dist.name if ep is not None and ep.dist is not None else None
            source = "builtin" if dist == "csgw" else "entry point" if ep else "path"
            hooks = tuple(sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or []))
            infos.append(PluginInfo(name, source, getattr(plugin, "__name__", repr(plugin)), dist, True, hooks))
        for name in sorted(set(dists) - {n for n, _ in self.pm.list_name_plugin() if _ is not None}):
            ep = dists[name]
            dist = ep.dist.name if ep.dist is not None else None
            infos.append(PluginInfo(name, "builtin" if dist == "csgw" else "entry point", ep.value, dist, False, ()))
        return sorted(infos, key=lambda i: i.name)


def _flatten(results: Iterable[Iterable[Any] | None]) -> list[Any]:
    return [item for result in results if result for item in result]


async def _outcome(awaitable: Any) -> Any:
    """What `gather(..., return_exceptions=True)` gives for one awaitable."""
    try:
        return await awaitable
    except Exception as error:
        return error

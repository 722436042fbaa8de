"""csgw's published plugin API: import from here, not from `csgw.gateway.*`, which may move.

Every name below is stable within a major version. Importing this module starts nothing: it only
defines types and helpers. The test harness lives in `csgw.testing` (it imports the whole gateway).
"""

from __future__ import annotations

from csgw.commands import ConfigOption, err, fail, fail_config, settings_or_exit, with_store
from csgw.config.plugin_sections import ConfigSection
from csgw.config.schema import Settings
from csgw.gateway.answers import Decision, ReplyOverride
from csgw.gateway.api.auth import authenticate, is_supervisor, require_supervisor
from csgw.gateway.api.errors import ApiError, error_response, field, parse_id, read_json
from csgw.gateway.api.routes import ApiRoute, ApiRoutes, Handler, Param
from csgw.gateway.channel import (
    Channel,
    ChannelConfig,
    ChannelConfigError,
    ChannelNotReady,
    SendError,
)
from csgw.gateway.health_check import CheckResult, HealthCheck
from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.knowledge import KnowledgeEntry
from csgw.gateway.leadership import poll_role, while_leading
from csgw.gateway.messages import Accepted, DraftReply, InboundMessage, OutboundMessage
from csgw.gateway.models import Agent, Conversation
from csgw.gateway.ports import (
    ChannelHost,
    ConversationOps,
    Cursors,
    Events,
    Gateway,
    Leadership,
    RunningChannel,
    Timers,
    Writes,
)
from csgw.gateway.reply import Reply, ReplyContext, ReplyHandler
from csgw.gateway.report_sections import ReportSection
from csgw.gateway.routing import (
    Assigner,
    AssignmentDecision,
    AssignmentRequest,
    Classification,
    Classifier,
    QueueSpot,
)
from csgw.gateway.shop_lookups import LiveContext, OrderLookup
from csgw.gateway.texts import Texts

__all__ = [
    # registering
    "hookimpl",
    # what hooks receive
    "Settings",
    "ConfigSection",  # a plugin's own `[name]` table (`csgw_config_sections`; `settings.section(name, Model)`)
    "Gateway",
    "ChannelHost",
    "RunningChannel",
    "Cursors",
    "Events",
    "ConversationOps",
    "Timers",
    "Writes",  # `services.writer`: writes through the core's one writer (plans, `csgw.gateway.storage.plans`)
    "Leadership",  # once per cluster: `services.leadership`; `while_leading(leadership, poll_role(...), loop)`
    "while_leading",
    "poll_role",
    # records the ports and hooks hand over (read them; change them through `services.conversations`)
    "Agent",
    "Conversation",
    "DraftReply",
    "QueueSpot",
    "LiveContext",  # `services.customer_context(customer_id)`: the shop's plugins' live context
    "OrderLookup",  # `services.look_up_order(order_no, customer_id)`: an order by its number
    # channels
    "Channel",
    "ChannelConfig",
    "ChannelConfigError",
    "ChannelNotReady",
    "SendError",
    "InboundMessage",
    "OutboundMessage",
    "Accepted",
    # replies
    "Reply",
    "KnowledgeEntry",  # what `services.knowledge` finds (`csgw_knowledge_search`)
    "ReplyContext",
    "ReplyHandler",
    "Decision",  # what a `ReplyOverride` (`csgw_reply_overrides`) sees: context, reply, verdict
    "ReplyOverride",
    # customer-facing texts: register a table with `csgw_texts`, render it with
    # `Texts(table, settings.text_overrides)` (the shop's `[texts.*]` wording where it has one)
    "Texts",
    # escalation and assignment
    "Classification",
    "Classifier",
    "Assigner",
    "AssignmentRequest",
    "AssignmentDecision",
    # the service report: a plugin's own figures (`csgw_report_sections`)
    "ReportSection",
    # health
    "CheckResult",
    "HealthCheck",
    # agent-API routes (`csgw_routes`)
    "ApiRoute",
    "ApiRoutes",
    "Handler",
    "Param",
    "ApiError",
    "authenticate",
    "is_supervisor",
    "require_supervisor",
    "read_json",
    "field",
    "parse_id",
    "error_response",
    # commands (`csgw_cli`): the `--config` option, the config, the store, one-line errors
    "ConfigOption",
    "settings_or_exit",
    "with_store",
    "fail",
    "fail_config",
    "err",
]

"""The shape of `csgw.toml`: every section, key, type and default in one place."""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from csgw.config.hours import HoursSettings, known_zone
from csgw.config.plugin_sections import PluginSections
from csgw.config.texts import TextOverrides


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RateLimitSettings(Section):
    """Per-IP token buckets (`gateway/limits.py`). Platforms push from a few addresses, so the
    webhook limit is generous; visitors are many."""

    webhook_per_minute: float = Field(6000, gt=0)
    widget_connections_per_minute: float = Field(60, gt=0)
    widget_messages_per_minute: float = Field(120, gt=0)
    login_per_minute: float = Field(10, gt=0)  # console sign-ins (POST /api/v1/login), tried or not
    exempt_loopback: bool = True  # a local proxy that does not forward addresses looks like one client


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    data_dir: str = "./data"
    max_body_bytes: int = Field(1_048_576, ge=1024)
    shutdown_grace_seconds: float = Field(10.0, ge=0)
    # A request's head must arrive within this (counted from the connection's start or the previous
    # response; an idle keep-alive connection closes after it too), its body within the next
    header_timeout_seconds: float = Field(10.0, gt=0, le=3600)
    body_timeout_seconds: float = Field(30.0, gt=0, le=3600)
    language: Literal["zh-Hans", "zh-Hant", "en"] = "zh-Hans"
    behind_tls_proxy: bool = False  # a TLS proxy fronts csgw: no plain-HTTP warning
    # Peers (addresses or CIDR networks) whose X-Forwarded-For is believed; empty with
    # behind_tls_proxy = true: loopback only (a proxy on the same machine)
    trusted_proxies: list[str] = Field(default_factory=list)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    # The shop's time zone (IANA name, e.g. "Asia/Shanghai") for times people read: the console,
    # the CLI, report days. Empty: the host's.
    timezone: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return known_zone(name) if name else name

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or CIDR network: {entry!r}") from None
        return entries


class DatabaseSettings(Section):
    url: str = "sqlite://./data/csgw.db"
    max_batch: int = Field(256, ge=1, le=10_000)
    # PostgreSQL with several instances: how long a dead instance's outbox rows stay its own
    outbox_lease_seconds: float = Field(30.0, ge=5, le=3600)
    # With several instances: how often one that follows a timer or poller tries to take it over
    leader_retry_seconds: float = Field(5.0, gt=0, le=300)


class BusSettings(Section):
    # Between instances on one PostgreSQL: "" uses its LISTEN/NOTIFY; "redis://host:6379/0" Redis
    # pub/sub. SQLite (one process) needs none.
    url: str = Field("", pattern=r"^(redis://.*|rediss://.*)?$")


class LoggingSettings(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class PluginSettings(Section):
    enabled: list[str] = Field(default_factory=list)
    disabled: list[str] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)


class ReplySettings(Section):
    knowledge_base: str | None = None  # YAML/CSV loaded into an empty store at first start
    engine: dict[str, Any] = Field(default_factory=dict)  # reply engine tuning: retrieval, menu, handover
    priorities: dict[str, int] = Field(default_factory=dict)
    disabled: list[str] = Field(default_factory=list)
    # The customer ends the conversation with one of these (exact message, case-insensitive).
    close_keywords: list[str] = Field(default_factory=lambda: ["结束", "結束", "结束对话", "結束對話", "end chat"])
    # After a close, a reply of 1-5 within this window rates the closed conversation.
    survey_window_seconds: float = Field(600, ge=0)
    # After a rating by message, the customer's next text within this window may be its comment
    # (`gateway/rating_comments.py` says which); 0: no comment is asked for.
    comment_window_seconds: float = Field(300, ge=0)


class GroupSettings(Section):
    """`[assignment.groups.NAME]`: what is particular to one group of agents."""

    hours: HoursSettings | None = None  # the group's own hours, before its channel's and `[hours]`


class AssignmentSettings(Section):
    mode: Literal["least_load", "round_robin"] = "least_load"
    default_group: str | None = None
    state_groups: dict[str, str] = Field(default_factory=dict)  # customer state -> group, e.g. aftersale = "售后"
    offer_timeout_seconds: float = Field(0, ge=0)  # 0: assign directly; else reassign an offer not taken in time
    prefer_previous_agent: bool = True
    requeue_on_offline: bool = True  # an agent going offline hands their open conversations back
    vip_tags: list[str] = Field(default_factory=lambda: ["VIP", "vip"])
    vip_min_spend: float | None = Field(None, ge=0)  # orders' amounts adding up to this make a VIP
    vip_priority: int = 20
    vip_wait_seconds: float = Field(120, ge=0)  # wait this long for an exclusive agent; 0: fall back at once
    away_after_seconds: float = Field(300, ge=0)  # no API call or heartbeat this long: away (0: never)
    expected_handle_seconds: float = Field(300, gt=0)  # per conversation, until closed ones say otherwise
    # close a conversation silent this long while it waits on the customer, never a queued one (0: never)
    idle_close_seconds: float = Field(0, ge=0)
    tick_seconds: float = Field(1.0, gt=0, le=60)  # how often timers (offers, VIP waits, presence) run
    queue_update_seconds: float = Field(60, ge=0)  # tell a queued customer their new place at most this often (0: never)
    groups: dict[str, GroupSettings] = Field(default_factory=dict)


class CustomersSettings(Section):
    # Signs binding codes (`绑定 CODE`) the shop's site gives a logged-in customer; unset: codes are off.
    binding_secret: str | None = None
    binding_code_ttl_seconds: float = Field(600, gt=0)  # codes minted by the agent API
    context_timeout_seconds: float = Field(3, gt=0)  # `csgw_customer_context` lookups wait at most this


class EscalationRule(Section):
    name: str
    keywords: list[str]
    priority: int = 0
    handover: bool = False
    group: str | None = None


def _default_rules() -> list[EscalationRule]:
    return [
        EscalationRule(name="complaint", priority=10, handover=True, keywords=[
            "投诉", "差评", "举报", "骗子", "曝光", "垃圾", "气死", "坑人", "太差", "什么破", "欺诈", "315", "12315",
            "投訴", "差評", "舉報", "騙子", "垃圾", "氣死", "坑人", "太差勁", "什麼破", "欺詐",
            "complaint", "scam", "terrible"]),
        EscalationRule(name="urgent", priority=5, keywords=[
            "加急", "急用", "马上要", "急需", "赶紧发", "今天必须", "馬上要", "趕緊發", "急件", "urgent", "asap"]),
        EscalationRule(name="payment", priority=7, keywords=[
            "退款", "扣款", "付款失败", "支付失败", "重复扣", "没到账", "退錢", "付款失敗", "支付失敗", "沒到賬",
            "refund", "charged twice"]),
    ]


class EscalationSettings(Section):
    rules: list[EscalationRule] = Field(default_factory=_default_rules)
    # Waiting-time limits by priority (the highest key not above a conversation's priority applies).
    first_response_seconds: dict[int, float] = Field(default_factory=lambda: {0: 600.0, 5: 300.0, 10: 120.0})
    next_response_seconds: dict[int, float] = Field(default_factory=lambda: {0: 900.0, 5: 600.0, 10: 300.0})
    breach_priority_step: int = 5
    supervisor_group: str | None = None  # a breached conversation still queued moves here
    webhook_url: str | None = None  # POSTed a JSON body on every breach
    tick_seconds: float = Field(5.0, gt=0, le=300)


class HealthSettings(Section):
    loop_lag_degraded_ms: float = 100
    loop_lag_down_ms: float = 1000
    cpu_degraded_percent: float = 85
    cpu_down_percent: float = 98
    memory_degraded_percent: float = 85
    memory_down_percent: float = 95
    disk_free_degraded_mb: float = 1024
    disk_free_down_mb: float = 100
    outbox_pending_degraded: int = 100
    outbox_pending_down: int = 1000
    outbox_oldest_degraded_seconds: float = 60
    outbox_oldest_down_seconds: float = 600
    database_roundtrip_degraded_ms: float = 200
    database_roundtrip_down_ms: float = 2000
    channel_failure_ratio_degraded: float = 0.2
    channel_failure_ratio_down: float = 0.8
    sync_lag_degraded_seconds: float = 120
    sync_lag_down_seconds: float = 900
    send_failures_degraded: int = 1  # outbound messages given up on within the traffic window
    send_failures_down: int = 20
    traffic_window_seconds: float = Field(300, gt=0)
    database_write_degraded_ms: float = 500
    database_write_down_ms: float = 5000
    rss_degraded_mb: float = 1024
    rss_down_mb: float = 4096
    connections_degraded: int = 1000
    connections_down: int = 4000
    check_interval_seconds: float = Field(30, gt=0)  # the monitor checks by itself, so alerts need no poller
    history_interval_seconds: float = Field(60, gt=0)
    history_size: int = Field(60, ge=1, le=10_000)
    # /healthz and /readyz serve a report at most this old: a flood of probes runs the checks
    # (a committed write among them) once per interval, not once per request
    report_max_age_seconds: float = Field(2.0, ge=0, le=60)
    notify_url: str | None = None  # state changes are POSTed here as JSON (builtin health_webhook)
    notify_timeout_seconds: float = Field(5, gt=0)
    report_reopen_hours: float = Field(24, ge=0)  # closed and not reopened within this counts as resolved


class Settings(Section, PluginSections, TextOverrides):
    """The core sections; plugins' own tables are in `plugin_sections`, read with `section()`."""

    server: ServerSettings = Field(default_factory=ServerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    bus: BusSettings = Field(default_factory=BusSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    channels: list[dict[str, Any]] = Field(default_factory=list)
    plugins: PluginSettings = Field(default_factory=PluginSettings)
    reply: ReplySettings = Field(default_factory=ReplySettings)
    assignment: AssignmentSettings = Field(default_factory=AssignmentSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    customers: CustomersSettings = Field(default_factory=CustomersSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    # When people are at the desk (`gateway/hours.py`); None: always
    hours: HoursSettings | None = None
    # [texts.LANGUAGE]: the shop's wording of built-in customer-facing texts, as written; checked
    # against every registered text once the plugins are loaded, then read as `text_overrides`
    texts: dict[str, Any] = Field(default_factory=dict)

    # Where the file was read from; relative paths in it are resolved against its folder.
    source_path: str = Field("csgw.toml", exclude=True)
    base_dir: str = Field(".", exclude=True)

    def language_for(self, channel: str, account: str) -> str:
        """The language a customer of one channel account reads every text csgw sends in: that
        `[[channels]]` entry's `language`, else `[server] language`."""
        for entry in self.channels:
            if entry.get("plugin") == channel and entry.get("account") == account and entry.get("language"):
                return str(entry["language"])
        return self.server.language

"""The channel seam: what a channel plugin hands the gateway and what the gateway asks of it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from csgw.gateway.connection_stats import ConnectionStats
from csgw.gateway.redact import redact

if TYPE_CHECKING:
    from csgw.gateway.services import GatewayServices


class ChannelConfig(BaseModel):
    """Keys every `[[channels]]` entry has; a channel type extends it with its own."""

    model_config = ConfigDict(extra="forbid")

    plugin: str
    account: str
    enabled: bool = True
    group: str | None = None  # default group for conversations from this account


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A customer's message, normalised by its channel."""

    channel: str
    account: str
    user_id: str  # the platform's id for the customer (OpenID, e-mail address, visitor id)
    text: str
    external_id: str | None = None  # the platform's message id; dedupe key per account
    kind: str = "text"  # text, image, voice, video, location, link, file, event
    payload: dict[str, Any] = field(default_factory=dict)
    platform_ts: datetime | None = None
    profile: dict[str, Any] = field(default_factory=dict)  # nickname, avatar, e-mail name
    thread_key: str | None = None  # a channel's own conversation key (e-mail thread)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A stored message on its way to a customer; `message_id` is the idempotency key."""

    message_id: int
    conversation_id: int
    channel: str
    account: str
    user_id: str
    text: str
    sender: str  # bot, agent, system
    payload: dict[str, Any] = field(default_factory=dict)
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class Accepted:
    """What `GatewayServices.accept` answers once an inbound message is durable."""

    message_id: int
    conversation_id: int
    duplicate: bool
    inline_replies: list[OutboundMessage] = field(default_factory=list)


class ChannelConfigError(Exception):
    """The channel's configuration is wrong: fix the config, retrying will not help."""


class ChannelNotReady(Exception):
    """The platform cannot be reached yet: the gateway retries later with back-off."""


class SendError(Exception):
    """A send failed. `retryable` False means the outbox gives up and tells the agent why."""

    def __init__(self, message: str, *, retryable: bool = True, code: str | None = None):
        super().__init__(redact(message))  # it is stored with the outbox row and shown to agents
        self.retryable = retryable
        self.code = code


class Channel(ABC):
    """One configured account of a channel type; one instance per `[[channels]]` entry."""

    plugin: ClassVar[str]
    Config: ClassVar[type[ChannelConfig]] = ChannelConfig

    def __init__(self, config: ChannelConfig, services: GatewayServices) -> None:
        self.config = config
        self.services = services
        self.stats = ConnectionStats()
        self.log = services.log.bind(channel=self.plugin, account=config.account)

    @property
    def account(self) -> str:
        return self.config.account

    @classmethod
    def app_routes(cls, services: GatewayServices) -> Iterable[web.AbstractRouteDef]:
        """Routes the channel type needs besides `/webhooks/{plugin}/{account}`."""
        return ()

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        """`GET/POST /webhooks/{plugin}/{account}`; channels that take pushes override it."""
        raise web.HTTPNotFound(text="this channel takes no webhooks")

    async def start(self) -> None:
        """Connect, start pulling; raise ChannelNotReady or ChannelConfigError."""

    async def stop(self) -> None:
        """Stop pulling and close connections; called once at shutdown."""

    async def close_connections(self) -> None:
        """Close long-lived client connections (sockets) so the server can stop; default: none."""

    def client_connections(self) -> int:
        """How many long-lived connections customers hold open to csgw (for health); default: none."""
        return 0

    @abstractmethod
    async def send(self, message: OutboundMessage) -> None:
        """Deliver one outbound message; raise SendError when it did not go out."""

    async def typing(self, user_id: str, on: bool) -> None:
        """Show the customer that an agent is writing, where the platform can; default: nothing."""

    def health_detail(self) -> dict[str, Any]:
        """Channel-specific health facts (sync lag, cursor age, …) merged into its check."""
        return {}

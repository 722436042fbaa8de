"""The channel seam: what a channel plugin hands the gateway and what the gateway asks of it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from csgw.config.hours import HoursSettings
from csgw.gateway.connection_stats import ConnectionStats
from csgw.gateway.messages import Accepted, InboundMessage, OutboundMessage
from csgw.gateway.redact import redact

if TYPE_CHECKING:
    from aiohttp import web  # at run time only where a webhook is served: `csgw kb` never loads it

    from csgw.gateway.ports import ChannelHost

# Accepted and InboundMessage live in messages.py; plugins written earlier import them from here.
__all__ = ["Accepted", "Channel", "ChannelConfig", "ChannelConfigError", "ChannelNotReady", "InboundMessage",
           "OutboundMessage", "SendError"]


class ChannelConfig(BaseModel):
    """Keys every `[[channels]]` entry has; a channel type extends it with its own."""

    model_config = ConfigDict(extra="forbid")

    plugin: str
    account: str
    enabled: bool = True
    # Where this account's hand-overs go when nothing says better (the classifier's group, the
    # KB category's with an agent online, the customer state's), before `[assignment]
    # default_group`; taken only while an agent is in it. `group` is its older name.
    default_group: str | None = Field(None, validation_alias=AliasChoices("default_group", "group"))
    # What this account's customers read (`Settings.language_for`); None: `[server] language`
    language: Literal["zh-Hans", "zh-Hant", "en"] | None = None
    hours: HoursSettings | None = None  # this account's own business hours, before `[hours]`


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

    def __init__(self, config: ChannelConfig, services: ChannelHost) -> None:
        self.config = config
        self.services = services
        self.stats = ConnectionStats()
        self.log = services.log.bind(channel=self.plugin, account=config.account)

    @property
    def account(self) -> str:
        return self.config.account

    @classmethod
    def app_routes(cls, services: ChannelHost) -> Iterable[web.AbstractRouteDef]:
        """Routes the channel type needs besides `/webhooks/{plugin}/{account}`."""
        return ()

    async def webhook(self, request: web.Request) -> web.StreamResponse:
        """`GET/POST /webhooks/{plugin}/{account}`; channels that take pushes override it."""
        from aiohttp import web

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

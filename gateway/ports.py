"""The narrow interfaces plugins are handed: what they may use of a running gateway, nothing more.

A channel is handed a `ChannelHost`; hooks get a `Gateway` (a `ChannelHost` that also reaches
conversations and timers). The gateway's services object (`gateway/services.py`) satisfies both;
plugins and their type checkers see only these Protocols. This module imports no other part of
the gateway at run time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    import aiohttp
    from structlog.typing import FilteringBoundLogger

    from csgw.config.schema import Settings
    from csgw.gateway.knowledge import KnowledgeEntry
    from csgw.gateway.messages import Accepted, DraftReply, InboundMessage, OutboundMessage
    from csgw.gateway.models import Agent
    from csgw.gateway.routing import QueueSpot
    from csgw.gateway.shared_limits import Grant
    from csgw.gateway.shop_lookups import LiveContext, OrderLookup
    from csgw.gateway.storage.plans import Plan
    from csgw.gateway.storage.records import ConversationState

T = TypeVar("T")


class Writes(Protocol):
    """The one writer (`gateway/storage/writer.py`): plans (`gateway/storage/plans.py`) committed
    in groups, each caller released once its transaction committed."""

    async def run_plan(self, plan: Callable[..., Plan[T]], *args: Any, **kwargs: Any) -> T:
        """Queue `plan(*args, **kwargs)` (pass the function: it is built when its batch runs)."""

    async def run_batched(self, handler: Callable[[list[Any]], Plan[list[Any]]], item: Any) -> Any:
        """Queue `item`; the items of one handler queued together become one plan."""


class Cursors(Protocol):
    """Small durable key/value state per channel account (a pull channel's sync position)."""

    async def get(self, channel: str, account: str, key: str) -> str | None: ...

    async def set(self, channel: str, account: str, key: str, value: str) -> None: ...


class Events(Protocol):
    """The event bus agent sockets read: `{"type": kind, "data": {...}}` events, from every instance."""

    @property
    def listening(self) -> bool: ...

    def publish(self, kind: str, data: dict[str, Any]) -> None: ...

    def subscribe(self) -> AbstractAsyncContextManager[asyncio.Queue[dict[str, Any]]]: ...

    def observe(self, observer: Callable[[dict[str, Any]], None]) -> None:
        """Call `observer(event)` in place for every event published on this instance (not those
        other instances relay), never dropped; it must return at once, queueing its own work."""


class Bus(Protocol):
    """Messages to every instance sharing the store, this one included (`gateway/bus.py`). Keep
    them small and self-contained: ids and frames, not records another instance must trust."""

    async def publish(self, topic: str, data: dict[str, Any]) -> None: ...

    def subscribe(self, topic: str, handler: Callable[[dict[str, Any]], Awaitable[None]]) -> None: ...


class Leadership(Protocol):
    """Which instance does what must happen once among those sharing the store (timers, pollers,
    token fetches; `gateway/leadership.py`): one leader per role name at a time. With SQLite this
    one instance leads every role."""

    @property
    def shared(self) -> bool:
        """Whether other instances may share the store (PostgreSQL)."""

    @property
    def retry_seconds(self) -> float:
        """How often a follower tries to lead again, and a leader re-checks it still does."""

    def leads(self, role: str) -> bool:
        """Whether this instance leads `role`, as far as it knows without asking the store."""

    async def try_lead(self, role: str) -> bool:
        """Lead `role` unless a live instance does; True while this one leads it (checked)."""

    async def lost(self, role: str) -> None:
        """Return once this instance does not lead `role` (at once if it does not now)."""

    async def resign(self, role: str) -> None:
        """Hand `role` back, so another instance takes it at its next try."""


class Limits(Protocol):
    """Rate limits and remembered values for the whole cluster (`gateway/shared_limits.py`): in
    PostgreSQL or Redis when instances share a store, in memory with SQLite."""

    @property
    def shared(self) -> bool: ...

    async def take(self, key: str, *, limit: float, per_seconds: float, max_wait: float = 0.0) -> Grant:
        """One unit of `limit` per `per_seconds` under `key`; with `max_wait`, also a unit that
        frees within that many seconds (wait `grant.wait`, then go)."""

    async def peek(self, key: str, *, limit: float, per_seconds: float) -> Grant:
        """Whether `take` would give a unit now, without taking it."""

    async def remember(self, key: str, value: str, *, ttl: float) -> str:
        """Keep `value` under `key` for `ttl` seconds unless a value is kept there; the kept one."""


class ConversationOps(Protocol):
    """What routing and reply plugins may do to conversations and agents (`services.conversations`).

    Decide and write under `queue_lock()` when what you write depends on the queue you read;
    `requeue`, `dispatch_queue`, `take` and `transfer` take the lock themselves, so call them
    outside it.
    """

    @property
    def language(self) -> str:
        """The shop's default language (`[server] language`); a customer reads `language_for`."""

    def language_for(self, channel: str, account: str) -> str:
        """The language of the texts a customer of one channel account reads: its `[[channels]]`
        `language`, else `[server] language` (`Settings.language_for`)."""

    def queue_lock(self) -> AbstractAsyncContextManager[Any]: ...

    async def agent_loads(self) -> dict[int, int]:
        """Assigned conversations per agent id."""

    async def queue_spot(self, conversation: ConversationState, group: str | None, priority: int,
                         waiting_since: datetime) -> QueueSpot:
        """How many queued conversations of the group go first, and the expected wait."""

    async def queue_spots(self) -> dict[int, QueueSpot]:
        """`queue_spot` of every queued conversation (by id), from one read of the queue."""

    async def take(self, conversation: ConversationState, agent: Agent) -> ConversationState: ...

    async def transfer(self, conversation: ConversationState, *, agent_id: int | None, group: str | None,
                       note: str = "", force: bool = False) -> ConversationState: ...

    async def close(self, conversation: ConversationState) -> ConversationState: ...

    async def tell(self, conversation: ConversationState, change: str, drafts: list[DraftReply],
                   **values: Any) -> None:
        """Write system messages to the customer with a change (`values`: fields), and announce it."""

    async def update(self, conversation: ConversationState, change: str, **values: Any) -> None:
        """Write a state change (`values`: fields) and announce it."""

    async def requeue(self, conversations: Sequence[ConversationState], reason: str) -> None: ...

    async def dispatch_queue(self) -> int:
        """Assign queued conversations to agents with room; how many were assigned."""

    async def set_agent_status(self, agent: Agent, status: str, *, reason: str = "agent") -> dict[str, Any]:
        """Store an agent's status (any other reason than "agent" marks an automatic away)."""

    async def agent_changed(self, agent: Agent) -> dict[str, Any]:
        """An agent's status, capacity or skills changed elsewhere: pull or hand back work."""


class Timers(Protocol):
    """A gateway's periodic jobs; they stop when the gateway stops. A job runs only on the
    instance leading the role `timer:<name>`, so once per tick among instances sharing a store."""

    def every(self, name: str, job: Callable[[], Awaitable[None]], seconds: float) -> object: ...


class RunningChannel(Protocol):
    """A running channel as `channel()` hands it out; a plugin narrows it to its own class with
    `isinstance` to reach more."""

    @property
    def account(self) -> str: ...

    async def send(self, message: OutboundMessage) -> None: ...

    async def typing(self, user_id: str, on: bool) -> None: ...

    def health_detail(self) -> dict[str, Any]: ...


class ChannelHost(Protocol):
    """What a channel may ask of the gateway (`Channel.services`)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def log(self) -> FilteringBoundLogger: ...

    @property
    def http(self) -> aiohttp.ClientSession | None:
        """A shared client session for calls to platforms; None before start and after stop."""

    @property
    def events(self) -> Events: ...

    @property
    def cursors(self) -> Cursors: ...

    @property
    def bus(self) -> Bus: ...

    @property
    def leadership(self) -> Leadership:
        """Who does once-per-cluster work: poll a platform as `poll:<plugin>:<account>`."""

    @property
    def limits(self) -> Limits:
        """Rate limits and replay guards that count every instance's traffic."""

    async def accept(self, inbound: InboundMessage, *, wait_reply: float | None = None) -> Accepted:
        """Store an inbound message durably (deduplicated by `external_id` per account) and answer
        it; returns once it is durable (with the replies, if `wait_reply` seconds sufficed)."""
        ...

    async def attach_order(self, channel: str, account: str, user_id: str, update: dict[str, str]) -> int:
        """Fold an order push (order_id, status, after_sale_id, event) into the profile of the
        customer behind (channel, account, user_id), created if new; returns the customer's id."""
        ...

    async def platform_user_id(self, conversation_id: int) -> str:
        """The platform's id of the customer a conversation is with ("" when unknown)."""
        ...

    async def rate(self, conversation_id: int, score: int, comment: str | None = None) -> None:
        """Record a customer's satisfaction score (1-5) for a conversation, with their comment
        (cleaned by `rating_comments.clean_comment`; None keeps one given before)."""

    async def mark_undelivered(self, message_id: int, error: str, code: str | None = None) -> None:
        """A reply the platform first took did not reach the customer after all: agents see why."""

    def channel(self, plugin: str, account: str) -> RunningChannel | None:
        """The running channel of one `[[channels]]` entry, if it is enabled."""
        ...

    def language_for(self, channel: str, account: str) -> str:
        """The language of every text csgw sends a customer of one channel account: its
        `[[channels]] language`, else `[server] language`."""
        ...

    def suggested_questions(self, channel: str, account: str) -> list[str]:
        """Questions to offer a customer of one channel account before they ask (the site
        widget's welcome chips), from `csgw_suggested_questions` (the knowledge base's menu)."""
        ...


class Gateway(ChannelHost, Protocol):
    """The running gateway as hooks (`services`) see it."""

    @property
    def conversations(self) -> ConversationOps: ...

    @property
    def timers(self) -> Timers: ...

    @property
    def writer(self) -> Writes:
        """Writes to the store, a plugin's own tables included, through the core's one writer."""

    async def say(self, conversation: ConversationState, text: str) -> None:
        """Send the customer a system message in the conversation, changing nothing else (an
        answer while a person has it)."""

    async def knowledge(self, text: str, channel: str, account: str, limit: int = 3) -> list[KnowledgeEntry]:
        """The knowledge-base entries nearest to `text` as asked from one channel account, best
        first (`csgw_knowledge_search`; the builtin knowledge base answers); empty when none is near."""

    async def bind_customer(self, customer_id: int, shop_user_id: str, *, replace: bool = False) -> None:
        """Bind a customer to the shop's account id, merging a customer who already holds it;
        `BindingError` (`csgw.gateway.binding`) when it cannot be (`replace`: over another id)."""

    async def customer_context(self, customer_id: int) -> LiveContext:
        """What the shop's `csgw_customer_context` plugins know of a customer now (live orders,
        …), each within `[customers] context_timeout_seconds`, and which of them failed."""

    async def look_up_order(self, order_no: str, customer_id: int) -> OrderLookup:
        """An order by the number the customer gave, from the `csgw_order_lookup` plugins (each
        within `[customers] context_timeout_seconds`), and which of them failed."""

    def order_lookup_plugins(self) -> tuple[str, ...]:
        """The plugins that find orders by number (`csgw_order_lookup`); empty: none can."""

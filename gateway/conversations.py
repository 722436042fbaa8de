"""Conversation lifecycle: hand-over to a person, take, transfer, close, and the queue.

Hand-over asks the assigners for a decision and applies its generic effect: assigned to an agent,
queued in a group (the customer hears their place, kept in flags["queue_told"]), or held for one
agent. What a routing plugin adds to an effect travels on the decision (`flags`, `note`, see
`csgw.gateway.routing`); offers, holds and their timers live in the plugin (`plugins/assignment`).

Every assignment (a hand-over, the queue served, an agent's take, a transfer) happens under one
lock (`queue_lock()`), decided from what was read under it (several hand-overs in one hold, from one
`AssignmentView` that each decision updates: `handover_desk.py`) and written before it is released,
so an agent's capacity holds however many conversations arrive at once. With instances sharing a
PostgreSQL store the lock also holds across them (`cluster_lock`, see
`csgw.gateway.storage.pg_assignment_lock`): a queued conversation is handed out once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

import structlog

from csgw.gateway import queue_waits
from csgw.gateway.assignment_view import AssignmentView, QueuePlace, profile
from csgw.gateway.clock import now
from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.messages import DraftReply
from csgw.gateway.models import Agent, Conversation, Customer
from csgw.gateway.off_hours import OFF_HOURS, closed_note
from csgw.gateway.ratings import NOT_ASKED, served
from csgw.gateway.routing import (
    AssignmentDecision,
    AssignmentRequest,
    QueueSpot,
    estimate_wait,
)
from csgw.gateway.storage.plans import update_row, update_rows_plan
from csgw.gateway.storage.records import ConversationRecord, ConversationState, columns_of
from csgw.gateway.storage.store import ConversationUpdate
from csgw.gateway.storage.timestamps import in_utc
from csgw.gateway.texts import TEXTS, Texts
from csgw.gateway.views import agent_view, conversation_view

if TYPE_CHECKING:
    from collections.abc import Mapping

    from csgw.config.schema import Settings
    from csgw.gateway.channel import Channel
    from csgw.gateway.outbox import Outbox
    from csgw.gateway.plugin_host import PluginHost
    from csgw.gateway.ports import Events, Gateway
    from csgw.gateway.routing import Assigner
    from csgw.gateway.storage.store import MessageStore
    from csgw.gateway.storage.writer import GroupCommitWriter

log = structlog.get_logger(__name__)

DISPATCH_PAGE = 100  # queued conversations read at a time when serving the queue

CONVERSATION_COLUMNS = columns_of(ConversationRecord)


class ConversationError(Exception):
    """A state change that is not allowed (closing a closed conversation, …)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def customer_profile(customer: Customer | None) -> dict[str, Any]:
    if customer is None:
        return {}
    return profile(customer.vip, customer.exclusive_agent_id, customer.state, customer.tags, customer.orders)


def without(flags: dict[str, Any] | None, keys: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in (flags or {}).items() if k not in keys}


async def agent_loads(agent_ids: Collection[int] | None = None) -> dict[int, int]:
    """Assigned conversations per agent id (of `agent_ids` only, when given); no entry: none."""
    assigned = Conversation.filter(state="assigned", agent_id__isnull=False)
    if agent_ids is not None:
        assigned = assigned.filter(agent_id__in=list(agent_ids))
    # tortoise types every values_list as tuples; flat=True gives the values themselves
    return dict(Counter(cast("list[int]", await assigned.values_list("agent_id", flat=True))))


def transfer_refusal(agent: Agent, load: int) -> tuple[str, str] | None:
    """(code, message) when `agent` cannot take a transfer now; None when they can."""
    who = agent.display_name or agent.name
    hint = 'send "force": true to transfer anyway'
    if agent.status == "offline":
        return "agent_offline", f"{who} is offline; {hint}"
    if agent.status == "away":
        return "agent_away", f"{who} is away; {hint}"
    if load >= agent.max_concurrent:
        return "agent_full", f"{who} already has {load} of {agent.max_concurrent} conversations; {hint}"
    return None


@dataclass(frozen=True, slots=True)
class HandoverAsk:
    """A conversation to hand over: in `group` (None: by `route_group`, trying the `hint`'s group if
    someone online serves it), at `priority`, with `flags` as they will be (None: as stored)."""

    conversation: ConversationState
    group: str | None
    priority: int
    flags: dict[str, Any] | None = None
    hint: str | None = None


class ClusterLock(Protocol):
    """A lock held across the instances sharing the store (none with SQLite's one process)."""

    def held(self) -> AbstractAsyncContextManager[None]: ...


class ConversationService:
    """The conversation state machine (`ConversationOps` to plugins); `hooks` are told with `gateway`."""

    def __init__(
        self, settings: Settings, store: MessageStore, writer: GroupCommitWriter, events: Events,
        outbox: Outbox, assigners: list[Assigner], channels: Mapping[tuple[str, str], Channel], *,
        hooks: PluginHost, gateway: Gateway, cluster_lock: ClusterLock | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.writer = writer
        self.events = events
        self.outbox = outbox
        self.assigners = assigners
        self.channels = channels
        self.hooks = hooks
        self.gateway = gateway
        self._lock = asyncio.Lock()
        self.cluster_lock = cluster_lock
        self.texts = Texts(TEXTS, settings.text_overrides)  # the core's texts in the shop's wording
        self.hours = DeskHours(settings)

    @property
    def language(self) -> str:
        return self.settings.server.language

    def language_for(self, channel: str, account: str) -> str:
        return self.settings.language_for(channel, account)

    def queue_lock(self) -> AbstractAsyncContextManager[None]:
        """Held while deciding and writing an assignment, or reading the queue to act on it: in this
        process, then (on a shared PostgreSQL) across instances. Not reentrant."""
        return self._locked()

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        async with self._lock:
            if self.cluster_lock is None:
                yield
                return
            async with self.cluster_lock.held():
                yield

    @property
    def handover_flags(self) -> frozenset[str]:
        """Flags the assigners' decisions set that end with the hand-over (an offer, a hold)."""
        return frozenset(k for a in self.assigners for k in getattr(a, "handover_flags", ()))

    def _held(self, conversation: ConversationState) -> bool:
        return any(k in (conversation.flags or {}) for k in self.handover_flags)

    async def agent_loads(self) -> dict[int, int]:
        return await agent_loads()

    async def _read_again(self, conversation: ConversationState) -> None:
        """Bring the caller's copy up to the stored conversation (under the lock: with what another
        instance committed before it)."""
        stored = await Conversation.get(id=conversation.id)
        for name in CONVERSATION_COLUMNS:
            setattr(conversation, name, getattr(stored, name))

    @property
    def decides_together(self) -> bool:
        """Whether every assigner decides from the request's view alone (`reads_view`), so several
        hand-overs can be decided before any is written."""
        return all(getattr(assigner, "reads_view", False) for assigner in self.assigners)

    def route_group(self, conversation: ConversationState, group: str | None, view: AssignmentView,
                    hint: str | None = None, quiet: bool = False) -> str | None:
        """The first of these groups an agent is in: the classifier's, the reply's `hint` (a guess
        such as the nearest KB category, so only with an agent online in it), the conversation's,
        the customer state's, the channel's, `[assignment] default_group`; else None (anyone).

        A hand-over never waits for a group nobody serves while an agent is free.
        """
        agents = view.agents.values()
        members = {g for a in agents for g in a.skills or []}
        online = {g for a in agents if a.status == "online" for g in a.skills or []}
        channel = self.channels.get((conversation.channel, conversation.account))
        customer = view.customers.get(conversation.customer_id)
        by_state = self.settings.assignment.state_groups.get(customer["state"]) if customer else None
        candidates = ((group, members), (hint, online), (conversation.group, members), (by_state, members),
                      (channel.config.default_group if channel is not None else None, members),
                      (self.settings.assignment.default_group, members))
        for candidate, staffed in candidates:
            if not candidate:
                continue
            if candidate in staffed:
                return candidate
            if not quiet:
                log.info("group passed over for the hand-over", conversation_id=conversation.id, group=candidate,
                         reason="no agent online in it" if staffed is online else "no agent in it")
        return None

    async def decide(self, conversation: ConversationState, group: str | None, priority: int,
                     view: AssignmentView, flags: dict[str, Any] | None = None) -> AssignmentDecision:
        """The assigners' decision from `view` (with the conversation's customer); after hours
        (`[hours]`) none is asked: the conversation waits in its queue for the next shift."""
        if self.hours.closed(group, conversation.channel, conversation.account, now()):
            return AssignmentDecision("queue", group=group, reason=OFF_HOURS)
        request = AssignmentRequest(
            conversation_id=conversation.id, customer_id=conversation.customer_id,
            channel=conversation.channel, account=conversation.account, group=group, priority=priority,
            previous_agent_id=view.previous_agent(conversation),
            customer=dict(view.customers.get(conversation.customer_id, {})),
            flags=dict(flags if flags is not None else conversation.flags or {}),
            view=view,
        )
        for assigner in self.assigners:
            try:
                decision = await assigner.decide(request)
            except Exception:
                log.exception("assigner failed", assigner=assigner.name, conversation_id=conversation.id)
                continue
            if decision is not None:
                return decision
        return AssignmentDecision("queue", group=group)

    async def plan_handovers(self, asks: Sequence[HandoverAsk], view: AssignmentView | None = None
                             ) -> tuple[list[tuple[list[DraftReply], dict[str, Any]]], AssignmentView]:
        """Decide who takes each conversation (in its group, else by `route_group`), in order, from
        one view read for all (`view`, read under the lock, when given): each one's system texts and
        state change, and the view (whose `stamps` are the agents' assignment times to write,
        `stamp_agents`).

        The caller holds `queue_lock()` and writes each change with its replies, before releasing it.
        """
        view = view or await AssignmentView.read([ask.conversation for ask in asks])
        await self.read_places(asks, view)
        planned = []
        for ask in asks:
            conversation = ask.conversation
            group = self.route_group(conversation, ask.group, view, ask.hint)
            decision = await self.decide(conversation, group, ask.priority, view, ask.flags)
            update: dict[str, Any] = {"group": decision.group or group, "priority": ask.priority,
                                      "waiting_since": conversation.waiting_since or now(),
                                      "flags": ask.flags if ask.flags is not None else dict(conversation.flags or {})}
            planned.append((await self._apply(conversation, decision, update, view), update))
        return planned, view

    async def read_places(self, asks: Sequence[HandoverAsk], view: AssignmentView) -> None:
        """Count the places in line of the conversations likely to be told theirs (no free agent
        serves their group, and it is open) at once, before any is decided: no query per decision
        under the lock (`AssignmentView.ahead` counts a place not foreseen here)."""
        free, at = view.free(), now()
        places = {}
        for ask in asks:
            conversation = ask.conversation
            if conversation.id in view.with_a_person:  # left to its person by the desk
                continue
            group = self.route_group(conversation, ask.group, view, ask.hint, quiet=True)
            if self.hours.closed(group, conversation.channel, conversation.account, at):
                continue
            if not any(group is None or group in (agent.skills or []) for agent in free):
                places[conversation.id] = QueuePlace(group, ask.priority, in_utc(conversation.waiting_since or at))
        await view.read_places(places)

    async def stamp_agents(self, view: AssignmentView) -> None:
        """Write when the view's agents were last assigned a conversation."""
        if view.stamps:
            stamps, view.stamps = view.stamps, {}
            await self.writer.run_plan(update_rows_plan, "agent", ("last_assigned_at",),
                                       [[at, agent_id] for agent_id, at in stamps.items()])

    async def _apply(self, conversation: ConversationState, decision: AssignmentDecision,
                     update: dict[str, Any], view: AssignmentView) -> list[DraftReply]:
        """Fill `update` with what `decision` means for the conversation, and `view` with it; return
        the customer's note.

        The flags of the previous hand-over go, the decision's own come.
        """
        at = now()
        flags = {**without(update.get("flags", conversation.flags), self.handover_flags), **decision.flags}
        group = update.get("group", conversation.group)
        bound = log.bind(conversation_id=conversation.id, channel=conversation.channel,
                         account=conversation.account, group=group, reason=decision.reason,
                         flags=sorted(decision.flags))
        language = self.language_for(conversation.channel, conversation.account)
        notes = [DraftReply(decision.note, "system")] if decision.note else []
        priority = update.get("priority", conversation.priority)
        since = update.get("waiting_since") or conversation.waiting_since or at
        if decision.action == "assign" and decision.agent_id is not None:
            agent = view.agents[decision.agent_id]
            update.update(state="assigned", agent_id=agent.id, assigned_at=at, flags=flags)
            view.assigned(conversation, agent.id, at)
            bound.info("conversation assigned", agent=agent.name)
            return notes or [DraftReply(
                self.texts.render("handover.assigned", language, agent=agent.display_name or agent.name), "system")]
        if decision.action == "wait" and decision.agent_id is not None:
            agent = view.agents[decision.agent_id]
            update.update(state="queued", agent_id=agent.id, flags=flags)
            view.queued(conversation, group, priority, since, agent.id)
            bound.info("conversation held for one agent", agent=agent.name)
            return notes
        update.update(state="queued", agent_id=None, flags=flags)
        schedule = self.hours.schedule_for(group, conversation.channel, conversation.account)
        view.queued(conversation, group, priority, since)
        if decision.reason == OFF_HOURS and schedule is not None:
            bound.info("conversation waits for the next shift")
            return notes or [closed_note(self.texts, schedule, at, language)]
        spot = estimate_wait(await view.ahead(conversation.id, group, priority, since), view.serving(group),
                             await self._handle_seconds_in(view, group))
        flags["queue_told"] = {"ahead": spot.ahead, "at": at.isoformat()}
        bound.info("conversation queued", ahead=spot.ahead)
        if notes:
            return notes
        if not spot.agents:
            return [DraftReply(self.texts.render("handover.offline", language), "system")]
        return [DraftReply(self.texts.render("handover.queued", language, ahead=spot.ahead, minutes=spot.minutes), "system")]

    async def queue_spot(self, conversation: ConversationState, group: str | None, priority: int,
                         waiting_since: datetime) -> QueueSpot:
        """How many queued conversations of the group go first, and the expected wait."""
        return await queue_waits.queue_spot(conversation.id, group, priority, waiting_since, self._handle_default)

    async def queue_spots(self) -> dict[int, QueueSpot]:
        return await queue_waits.queue_spots(self._handle_default)

    async def _handle_seconds_in(self, view: AssignmentView, group: str | None) -> float:
        if group not in view.handle:
            view.handle[group] = await queue_waits.handle_seconds(group, self._handle_default)
        return view.handle[group]

    @property
    def _handle_default(self) -> float:
        return self.settings.assignment.expected_handle_seconds

    async def take(self, conversation: ConversationState, agent: Agent) -> ConversationState:
        """The agent takes the conversation, unless it is closed, another agent's, or would put the
        agent over capacity. Decided and written under `queue_lock()` (taken here) on the
        conversation and load read again there: another instance may have assigned it, or filled
        the agent, since the caller read them. Announced once the lock is released, so a hook may
        take the lock (or serve the queue) itself."""
        async with self.queue_lock():
            await self._read_again(conversation)
            if conversation.state == "closed":
                raise ConversationError("closed", "the conversation is closed")
            if conversation.state == "assigned" and conversation.agent_id not in (None, agent.id):
                raise ConversationError("taken", "another agent has this conversation")
            if not (conversation.state == "assigned" and conversation.agent_id == agent.id):
                await self._check_room(agent.id)
            await self._store(conversation, [], {
                "state": "assigned", "agent_id": agent.id, "assigned_at": conversation.assigned_at or now(),
                "flags": without(conversation.flags, self.handover_flags)})
        await self._announce(conversation, "taken")
        return conversation

    async def _check_room(self, agent_id: int) -> None:
        agent = await Agent.get(id=agent_id)  # its capacity as stored now
        load = (await agent_loads([agent.id])).get(agent.id, 0)
        if load >= agent.max_concurrent:
            raise ConversationError("agent_full", f"you already have {load} of {agent.max_concurrent} conversations")

    async def transfer(self, conversation: ConversationState, *, agent_id: int | None, group: str | None,
                       note: str = "", force: bool = False) -> ConversationState:
        """Hand the conversation to an agent (online, with room, unless `force`) or a group's queue;
        its messages stay with it. Checked and written under `queue_lock()` (taken here) as `take`;
        the queue is served after."""
        if agent_id is None and not group:
            raise ConversationError("bad_request", "give agent_id or group")
        async with self.queue_lock():
            await self._read_again(conversation)
            if conversation.state == "closed":
                raise ConversationError("closed", "the conversation is closed")
            target = await Agent.get_or_none(id=agent_id) if agent_id is not None else None
            if agent_id is not None and target is None:
                raise ConversationError("unknown_agent", f"no agent with id {agent_id}")
            if target is not None and not force and target.id != conversation.agent_id:
                refusal = transfer_refusal(target, (await agent_loads([target.id])).get(target.id, 0))
                if refusal:
                    raise ConversationError(*refusal)
            await self._store(conversation, [], self._transfer_values(conversation, agent_id, group, note))
        await self._announce(conversation, "transferred")
        await self.dispatch_queue()
        return conversation

    def _transfer_values(self, conversation: ConversationState, agent_id: int | None, group: str | None,
                         note: str) -> dict[str, Any]:
        at = now()
        flags = without(conversation.flags, self.handover_flags)
        flags["transfer_note"] = note
        flags["transfers"] = [*flags.get("transfers", []), {
            "from_agent_id": conversation.agent_id, "to_agent_id": agent_id, "to_group": group,
            "note": note, "at": at.isoformat()}]
        if agent_id is not None:
            return {"state": "assigned", "agent_id": agent_id, "assigned_at": at,
                    "group": group or conversation.group, "flags": flags}
        return {"state": "queued", "agent_id": None, "group": group, "waiting_since": at, "flags": flags}

    async def close(self, conversation: ConversationState) -> ConversationState:
        """Close; the customer is asked for a rating only if someone served them (`served`)."""
        if conversation.state == "closed":
            raise ConversationError("closed", "the conversation is already closed")
        self.store.forget_conversation(conversation)
        freed = conversation.agent_id
        values: dict[str, Any] = {"state": "closed", "closed_at": now()}
        language = self.language_for(conversation.channel, conversation.account)
        if await served(conversation.id):
            note = DraftReply(self.texts.render("conversation.closed", language), "system", {"survey": True})
        else:
            note = DraftReply(self.texts.render("conversation.ended", language), "system")
            values["flags"] = {**(conversation.flags or {}), NOT_ASKED: True}
        await self._write(conversation, "closed", [note], values)
        if freed:
            await self.dispatch_queue()
        return conversation

    async def dispatch_queue(self) -> int:
        """Offer queued conversations (priority, then oldest first) to agents with free capacity."""
        async with self.queue_lock():
            return await self._dispatch()

    async def _dispatch(self) -> int:
        """The queue is read a page at a time, first in line first, until no agent has room: an
        agent freeing one slot reads the head of a long queue, not all of it."""
        view = await AssignmentView.read()
        assigned = passed = 0
        while view.free():
            page = await Conversation.filter(state="queued").order_by(
                "-priority", "waiting_since", "id").offset(passed).limit(DISPATCH_PAGE)
            await view.add_customers(page)  # not tracked: only assigned here, never told a place
            for conversation in page:
                if not view.free():
                    break
                decision = await self.decide(conversation, conversation.group, conversation.priority, view)
                if decision.action != "assign" or decision.agent_id is None:
                    passed += 1  # stays queued: the next page starts after it
                    continue
                update: dict[str, Any] = {}
                drafts = await self._apply(conversation, decision, update, view)
                await self.stamp_agents(view)
                await self._write(conversation, "assigned", drafts, update)
                assigned += 1
            if len(page) < DISPATCH_PAGE:
                break
        return assigned

    async def requeue(self, conversations: Sequence[ConversationState], reason: str) -> None:
        """Put conversations back in their queue (offer lapsed, agent gone) and serve the queue."""
        async with self.queue_lock():
            for conversation in conversations:
                log.info("conversation requeued", conversation_id=conversation.id, reason=reason,
                         agent_id=conversation.agent_id)
                await self.update(conversation, "requeued", state="queued", agent_id=None,
                                  waiting_since=conversation.waiting_since or now(),
                                  flags=without(conversation.flags, self.handover_flags))
            await self._dispatch()

    async def set_agent_status(self, agent: Agent, status: str, *, reason: str = "agent") -> dict[str, Any]:
        """Store an agent's status, tell everyone, and let the queue react."""
        if status != "away" or reason == "agent":
            agent.auto_away_since = None
        elif agent.status == "online":
            agent.auto_away_since = now()
        agent.status = status
        await self.writer.run_plan(
            update_row, "agent", agent.id, {"status": status, "auto_away_since": agent.auto_away_since})
        log.info("agent status changed", agent=agent.name, status=status, reason=reason)
        return await self.agent_changed(agent)

    async def agent_changed(self, agent: Agent) -> dict[str, Any]:
        """An agent's status, capacity or skills changed: pull or hand back work, then tell everyone."""
        mine = await Conversation.filter(state="assigned", agent_id=agent.id)
        if agent.status == "offline" and self.settings.assignment.requeue_on_offline:
            await self.requeue(mine, "agent offline")
        elif agent.status != "online":
            # Not yet accepted (an offer): someone at the desk should have it.
            await self.requeue([c for c in mine if self._held(c)], f"agent {agent.status}")
        else:
            await self.dispatch_queue()
        loads = await self.agent_loads()
        view = agent_view(agent, loads.get(agent.id, 0))
        self.events.publish("agent.updated", view)
        return view

    async def tell(self, conversation: ConversationState, change: str, drafts: list[DraftReply], **values: Any) -> None:
        """Write system messages to the customer with a change, and announce it."""
        await self._write(conversation, change, drafts, values)

    async def update(self, conversation: ConversationState, change: str, **values: Any) -> None:
        """Write a state change and announce it (events and the conversation-changed hook)."""
        await self._write(conversation, change, [], values)

    async def _write(self, conversation: ConversationState, change: str, drafts: list[DraftReply],
                     values: dict[str, Any]) -> None:
        await self._store(conversation, drafts, values)
        await self._announce(conversation, change)

    async def _store(self, conversation: ConversationState, drafts: list[DraftReply], values: dict[str, Any]) -> None:
        await self.store.store_replies(conversation, drafts, update=ConversationUpdate(values))
        if drafts:
            self.outbox.wake()

    async def _announce(self, conversation: ConversationState, change: str) -> None:
        view = conversation_view(conversation)
        view["change"] = change
        self.events.publish("conversation.updated", view)
        await self.hooks.conversation_changed(self.gateway, conversation_view(conversation), change)

"""What assignment decisions are made from, read in a few queries under the queue lock.

A hand-over used to read its agents, their loads, the customer, the earlier agent, its place in the
queue and the handling time one query at a time while holding the lock: each read a turn of an event
loop shared with every request in flight. A view is read once for every hand-over waiting (see
`handover_desk.py`), or for the queue being served, and each decision made from it is written into
it (`assigned`, `queued`), so the next decision in the same hold of the lock sees it: an agent's last
free slot is given once, and the second of two conversations queued together hears it is second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.expressions import Q

from csgw.gateway.models import Agent, Conversation, Customer
from csgw.gateway.storage.records import ConversationState
from csgw.gateway.storage.timestamps import as_datetime, in_utc

WITH_A_PERSON = ("queued", "assigned")


@dataclass(slots=True)
class QueuePlace:
    group: str | None
    priority: int
    since: datetime | None  # waiting since; None goes after nobody of its priority


@dataclass(slots=True)
class AssignmentView:
    """Agents and their loads, the customers and earlier agents of the conversations to decide, and
    the queue: as stored when read, then as the decisions made from it change them."""

    agents: dict[int, Agent]
    loads: dict[int, int]
    customers: dict[int, Customer] = field(default_factory=dict)
    previous: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # customer -> (conv, agent), newest first
    queue: dict[int, QueuePlace] = field(default_factory=dict)
    with_a_person: set[int] = field(default_factory=set)  # conversations queued or assigned when read
    handle: dict[str | None, float] = field(default_factory=dict)  # seconds per conversation, by group
    stamps: dict[int, datetime] = field(default_factory=dict)  # agent id -> assigned at: to write

    @classmethod
    async def read(cls, conversations: Collection[ConversationState] = ()) -> AssignmentView:
        """The view for deciding `conversations`, from three queries run at once: the agents, their
        customers, and the conversations a person has (queued or assigned) or that an agent had for
        one of these customers."""
        customer_ids = list({c.customer_id for c in conversations})
        rows = Q(state__in=WITH_A_PERSON)
        if customer_ids:
            rows |= Q(customer_id__in=customer_ids, agent_id__isnull=False)
        agents, customers, found = await asyncio.gather(
            Agent.all(), Customer.filter(id__in=customer_ids),
            Conversation.filter(rows).values_list("id", "customer_id", "state", "group", "priority",
                                                  "waiting_since", "agent_id"))
        view = cls({agent.id: agent for agent in agents}, {}, {customer.id: customer for customer in customers})
        wanted = set(customer_ids)
        for row_id, customer_id, state, group, priority, since, agent_id in sorted(found, reverse=True):
            if state in WITH_A_PERSON:
                view.with_a_person.add(row_id)
            if state == "queued":
                view.queue[row_id] = QueuePlace(group, priority, as_datetime(since))
            elif state == "assigned" and agent_id is not None:
                view.loads[agent_id] = view.load(agent_id) + 1
            if customer_id in wanted and agent_id is not None:
                view.previous.setdefault(customer_id, []).append((row_id, agent_id))
        return view

    async def add_customers(self, conversations: Collection[ConversationState]) -> None:
        """The customers of `conversations` and the agents of their earlier conversations."""
        customer_ids = list({c.customer_id for c in conversations} - set(self.customers))
        if not customer_ids:
            return
        customers, served = await asyncio.gather(
            Customer.filter(id__in=customer_ids),
            Conversation.filter(customer_id__in=customer_ids, agent_id__isnull=False).order_by(
                "-id").values_list("customer_id", "id", "agent_id"))
        self.customers.update((customer.id, customer) for customer in customers)
        for customer_id, conversation_id, agent_id in served:
            self.previous.setdefault(customer_id, []).append((conversation_id, agent_id))

    def online(self) -> list[Agent]:
        return [agent for agent in self.agents.values() if agent.status == "online"]

    def load(self, agent_id: int) -> int:
        return self.loads.get(agent_id, 0)

    def free(self) -> list[Agent]:
        """Online agents below their maximum."""
        return [agent for agent in self.online() if self.load(agent.id) < agent.max_concurrent]

    def previous_agent(self, conversation: ConversationState) -> int | None:
        """The agent of the customer's latest other conversation an agent had."""
        earlier = self.previous.get(conversation.customer_id, ())
        return next((agent_id for conversation_id, agent_id in earlier if conversation_id != conversation.id), None)

    def ahead(self, conversation_id: int, group: str | None, priority: int, since: datetime) -> int:
        """Queued conversations of `group` going before one with `priority`, waiting since `since`."""
        since = in_utc(since)
        return sum(1 for row_id, place in self.queue.items()
                   if row_id != conversation_id and place.group == group
                   and (place.priority > priority
                        or (place.priority == priority and place.since is not None and place.since < since)))

    def serving(self, group: str | None) -> int:
        """Online agents who can serve `group` (any of them when None)."""
        return sum(1 for agent in self.online() if group is None or group in (agent.skills or []))

    def assigned(self, conversation: ConversationState, agent_id: int, at: datetime) -> None:
        self.queue.pop(conversation.id, None)
        self.with_a_person.add(conversation.id)
        self.loads[agent_id] = self.load(agent_id) + 1
        self.agents[agent_id].last_assigned_at = at
        self.stamps[agent_id] = at
        self._served_by(conversation, agent_id)

    def queued(self, conversation: ConversationState, group: str | None, priority: int, since: datetime,
               agent_id: int | None = None) -> None:
        """Queued in `group`, or held for `agent_id`."""
        self.queue[conversation.id] = QueuePlace(group, priority, in_utc(since))
        self.with_a_person.add(conversation.id)
        if agent_id is not None:
            self._served_by(conversation, agent_id)

    def _served_by(self, conversation: ConversationState, agent_id: int) -> None:
        others = [(c, a) for c, a in self.previous.get(conversation.customer_id, []) if c != conversation.id]
        self.previous[conversation.customer_id] = sorted([(conversation.id, agent_id), *others], reverse=True)

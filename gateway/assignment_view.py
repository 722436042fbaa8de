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
from typing import Any

from csgw.gateway.models import Agent
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.storage.plans import json_value
from csgw.gateway.storage.queue_tally import TALLY, tally_key
from csgw.gateway.storage.records import ConversationState
from csgw.gateway.storage.timestamps import as_datetime, in_utc

_NO_TIME = "CAST(NULL AS TIMESTAMPTZ)"  # a timestamp column of a union, where PostgreSQL would guess text


def profile(vip: bool, exclusive_agent_id: int | None, state: str, tags: list[str] | None,
            orders: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A customer as an assigner sees it (`AssignmentRequest.customer`)."""
    return {"vip": vip, "exclusive_agent_id": exclusive_agent_id, "state": state, "tags": tags or [],
            "orders": orders or []}


@dataclass(slots=True)
class QueuePlace:
    group: str | None
    priority: int
    since: datetime | None  # waiting since; None goes after nobody of its priority


@dataclass(slots=True)
class AssignmentView:
    """Agents and their loads, the customers and earlier agents of the conversations to decide, and
    their places in the queue: as stored when read, then as the decisions made from it change them.

    Nothing read grows with the queue: the loads are counted from the assigned conversations, and a
    place in line is read from the database's tallies of the queue (`read_places`) for the
    conversations not tracked here, plus the tracked ones (`queue`: the conversations to decide, as stored, then as
    decided) that go first."""

    agents: dict[int, Agent]
    loads: dict[int, int]
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> `profile`
    previous: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # customer -> (conv, agent), newest first
    tracked: set[int] = field(default_factory=set)  # conversations read or decided here: left out of counts
    queue: dict[int, QueuePlace] = field(default_factory=dict)  # the tracked ones queued
    with_a_person: set[int] = field(default_factory=set)  # tracked conversations queued or assigned
    counted: dict[int, tuple[QueuePlace, int]] = field(default_factory=dict)  # conv -> untracked ahead of it there
    handle: dict[str | None, float] = field(default_factory=dict)  # seconds per conversation, by group
    stamps: dict[int, datetime] = field(default_factory=dict)  # agent id -> assigned at: to write

    @classmethod
    async def read(cls, conversations: Collection[ConversationState] = ()) -> AssignmentView:
        """The view for deciding `conversations`: the agents, their loads, and (`add_conversations`)
        the conversations' customers, earlier agents and stored states, read at once."""
        view = cls({}, {})
        agents, _ = await asyncio.gather(Agent.all(), view.add_conversations(conversations, loads=True))
        view.agents = {agent.id: agent for agent in agents}
        return view

    async def add_conversations(self, conversations: Collection[ConversationState], loads: bool = False) -> None:
        """`add_customers`, and whether a person has each conversation (queued or assigned, as
        stored) unless it is tracked here already; with `loads`, the agents' loads too."""
        untracked = list({c.id for c in conversations} - self.tracked)
        self.tracked.update(untracked)
        await self._read(conversations, untracked, loads)

    async def add_customers(self, conversations: Collection[ConversationState]) -> None:
        """The customers of `conversations` and the agents of their earlier conversations."""
        await self._read(conversations, [], loads=False)

    async def _read(self, conversations: Collection[ConversationState], untracked: list[int], loads: bool) -> None:
        """The customers, and what the conversation table says (stored states, earlier agents,
        loads), in one statement: under load each query costs a turn of the event loop each way,
        and a hand-over waits for all of them."""
        customer_ids = list({c.customer_id for c in conversations} - set(self.customers))
        served = []
        for row in await _rows(untracked, customer_ids, loads):
            if row["kind"] == "customer":
                self.customers[row["id"]] = profile(bool(row["vip"]), row["number"], row["state"],
                                                    json_value(row["tags"]), json_value(row["orders"]))
            elif row["kind"] == "stored":
                self.with_a_person.add(row["id"])
                if row["state"] == "queued":
                    self.queue[row["id"]] = QueuePlace(row["group"], row["number"], as_datetime(row["since"]))
            elif row["kind"] == "served":
                served.append((row["id"], row["number"], row["agent_id"]))
            else:
                self.loads[row["agent_id"]] = int(row["number"])
        for conversation_id, customer_id, agent_id in sorted(served, reverse=True):  # newest first
            self.previous.setdefault(customer_id, []).append((conversation_id, agent_id))

    async def read_places(self, places: dict[int, QueuePlace]) -> None:
        """Count the untracked queued conversations going before each of `places` (a conversation's
        expected place if queued), for `ahead`: one statement for all, so one snapshot.

        From the tallies (`queue_tally.py`): those of a higher priority, and those of the same
        priority less the ones waiting since the place's time or later (for a new arrival, the
        newest of its priority, next to none: nothing read grows with the queue); less the tracked
        ones going first, which `ahead` adds as this view has them."""
        wanted = [(conversation_id, place) for conversation_id, place in places.items()
                  if conversation_id not in self.counted]
        if not wanted:
            return
        keys = sorted({tally_key(place.group) for _, place in wanted})
        params: dict[str, Any] = {"queued": "queued", **{f"k{n}": key for n, key in enumerate(keys)}}
        parts = [f'SELECT \'tally\' AS "kind", "group_key" AS "key", "priority", "waiting" AS "n", {_NO_TIME} AS "since" '
                 f'FROM "{TALLY}" WHERE "group_key" IN (' + ", ".join(f":k{n}" for n in range(len(keys))) + ")"]
        for n, (_, place) in enumerate(wanted):
            if place.since is None:
                continue
            params[f"p{n}"], params[f"s{n}"], params[f"g{n}"] = place.priority, place.since, place.group
            of = ('FROM "conversation" WHERE "state" = :queued AND '
                  + (f'"group" = :g{n}' if place.group else '"group" IS NULL') + f' AND "priority" = :p{n}')
            # "priority" carries the place's number n here: its count of those queued since it or later
            parts.append(f"SELECT 'later', '', {n}, (SELECT COUNT(*) {of} AND \"waiting_since\" >= :s{n}) "
                         f'+ (SELECT COUNT(*) {of} AND "waiting_since" IS NULL), NULL')
        if self.tracked:
            params.update((f"t{n}", row_id) for n, row_id in enumerate(self.tracked))
            parts.append('SELECT \'tracked\', "group", "priority", 1, "waiting_since" FROM "conversation" '
                         'WHERE "state" = :queued AND "id" IN (' + ", ".join(f":t{n}" for n in range(len(self.tracked)))
                         + ")")
        tallies: dict[tuple[str, int], int] = {}
        later: dict[int, int] = {}
        tracked: list[QueuePlace] = []
        for row in await Sql().rows(" UNION ALL ".join(parts), **params):
            if row["kind"] == "tally":
                tallies[(row["key"], row["priority"])] = int(row["n"])
            elif row["kind"] == "later":
                later[row["priority"]] = int(row["n"])
            else:
                tracked.append(QueuePlace(row["key"], row["priority"], as_datetime(row["since"])))
        for n, (conversation_id, place) in enumerate(wanted):
            key = tally_key(place.group)
            count = sum(waiting for (of, priority), waiting in tallies.items()
                        if of == key and priority > place.priority)
            if place.since is not None:
                count += tallies.get((key, place.priority), 0) - later[n]
            count -= sum(1 for other in tracked if _goes_before(other, place))
            self.counted[conversation_id] = (place, max(0, count))

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

    async def ahead(self, conversation_id: int, group: str | None, priority: int, since: datetime) -> int:
        """Queued conversations of `group` going before one with `priority`, waiting since `since`:
        those counted by `read_places` (read again if the conversation's group or priority is not
        the one expected there) and the tracked ones."""
        place = QueuePlace(group, priority, in_utc(since))
        # Counted with the conversation's waiting_since, or with when it was counted if it had none:
        # the queued conversations' were stored before either, so the count is the same.
        counted = self.counted.get(conversation_id)
        if counted is None or (counted[0].group, counted[0].priority) != (group, priority):
            self.counted.pop(conversation_id, None)
            await self.read_places({conversation_id: place})
            counted = self.counted[conversation_id]
        return counted[1] + sum(1 for row_id, other in self.queue.items()
                                if row_id != conversation_id and _goes_before(other, place))

    def serving(self, group: str | None) -> int:
        """Online agents who can serve `group` (any of them when None)."""
        return sum(1 for agent in self.online() if group is None or group in (agent.skills or []))

    def assigned(self, conversation: ConversationState, agent_id: int, at: datetime) -> None:
        self.tracked.add(conversation.id)
        self.queue.pop(conversation.id, None)
        self.with_a_person.add(conversation.id)
        self.loads[agent_id] = self.load(agent_id) + 1
        self.agents[agent_id].last_assigned_at = at
        self.stamps[agent_id] = at
        self._served_by(conversation, agent_id)

    def queued(self, conversation: ConversationState, group: str | None, priority: int, since: datetime,
               agent_id: int | None = None) -> None:
        """Queued in `group`, or held for `agent_id`."""
        self.tracked.add(conversation.id)
        self.queue[conversation.id] = QueuePlace(group, priority, in_utc(since))
        self.with_a_person.add(conversation.id)
        if agent_id is not None:
            self._served_by(conversation, agent_id)

    def _served_by(self, conversation: ConversationState, agent_id: int) -> None:
        others = [(c, a) for c, a in self.previous.get(conversation.customer_id, []) if c != conversation.id]
        self.previous[conversation.customer_id] = sorted([(conversation.id, agent_id), *others], reverse=True)


async def _rows(untracked: list[int], customer_ids: list[int], loads: bool) -> list[dict[str, Any]]:
    """Rows of four kinds, one statement: `customer` (its profile: `state`, `number` its exclusive
    agent, `vip`, `tags`, `orders`), `stored` (a conversation with a person: its place, `number` its
    priority), `served` (an earlier conversation of a customer with an agent, `number` the customer)
    and `load` (an agent's assigned conversations, `number` their count). The customers go first:
    on PostgreSQL the first branch with a column's value gives the union its type."""
    params: dict[str, Any] = {"queued": "queued", "assigned": "assigned"}
    customers = ", ".join(f":u{n}" for n in range(len(customer_ids)))
    params.update((f"u{n}", row_id) for n, row_id in enumerate(customer_ids))
    params.update((f"c{n}", row_id) for n, row_id in enumerate(untracked))
    parts = []
    if customer_ids:
        parts.append(_select("customer", f'"customer" WHERE "id" IN ({customers})', id='"id"', state='"state"',
                             number='"exclusive_agent_id"', vip='"vip"', tags='CAST("tags" AS TEXT)',
                             orders='CAST("orders" AS TEXT)'))
    if untracked:
        parts.append(_select("stored", '"conversation" WHERE "state" IN (:queued, :assigned) AND "id" IN ('
                             + ", ".join(f":c{n}" for n in range(len(untracked))) + ")",
                             id='"id"', state='"state"', group='"group"', number='"priority"', since='"waiting_since"',
                             agent_id='"agent_id"'))
    if customer_ids:
        parts.append(_select("served", f'"conversation" WHERE "agent_id" IS NOT NULL AND "customer_id" IN ({customers})',
                             id='"id"', number='"customer_id"', agent_id='"agent_id"'))
    if loads:
        parts.append(_select("load", '"conversation" WHERE "state" = :assigned AND "agent_id" IS NOT NULL '
                             'GROUP BY "agent_id"', number="COUNT(*)", agent_id='"agent_id"'))
    return await Sql().rows(" UNION ALL ".join(parts), **params) if parts else []


_COLUMNS = ("id", "state", "group", "number", "since", "agent_id", "vip", "tags", "orders")


def _select(kind: str, source: str, **values: str) -> str:
    """One branch of `_rows`: every one of `_COLUMNS`, from `values` or NULL (a timestamp's NULL typed)."""
    assert set(values) <= set(_COLUMNS), set(values) - set(_COLUMNS)
    named = [f'{values.get(name, _NO_TIME if name == "since" else "NULL")} AS "{name}"' for name in _COLUMNS]
    return f"SELECT '{kind}' AS \"kind\", {', '.join(named)} FROM {source}"


def _goes_before(other: QueuePlace, place: QueuePlace) -> bool:
    return other.group == place.group and (
        other.priority > place.priority
        or (other.priority == place.priority and other.since is not None and place.since is not None
            and other.since < place.since))

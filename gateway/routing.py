"""Types of the escalation and assignment families and the queue's wait estimate.

An assigner's decision is one of three generic effects the core applies (`ConversationService`):
assign to an agent, queue in a group, or hold for one agent. A decision may carry `flags` to set
on the conversation with it (an offer's deadline, how long a hold lasts) and a `note` the customer
hears instead of the core's own. Flags an assigner names in `handover_flags` last only as long as
the hand-over that set them: taking, transferring, requeuing or a new decision clears them, and an
agent leaving hands back the assigned conversations that still carry one (offers not yet taken).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from csgw.gateway.reply import ReplyContext

if TYPE_CHECKING:
    from csgw.gateway.assignment_view import AssignmentView


@dataclass(frozen=True, slots=True)
class Classification:
    """A classifier's verdict on one inbound message; the highest priority across classifiers wins."""

    priority: int = 0
    flags: tuple[str, ...] = ()
    handover: bool = False  # a person should take this now (complaint, urgent order, …)
    group: str | None = None
    tags: tuple[str, ...] = ()  # for the conversation: the lane the message fell in (complaint, …)


class Classifier(Protocol):
    name: str

    async def classify(self, context: ReplyContext) -> Classification | None: ...


@dataclass(frozen=True, slots=True)
class AssignmentRequest:
    conversation_id: int
    customer_id: int
    channel: str
    account: str
    group: str | None
    priority: int
    previous_agent_id: int | None = None
    customer: dict[str, Any] = field(default_factory=dict)  # the profile: vip, exclusive_agent_id, state, tags, orders
    flags: dict[str, Any] = field(default_factory=dict)  # the conversation's flags
    # The agents and their loads under the queue lock, the decisions made before this one in the
    # same hold of it included (several hand-overs are decided before any is written).
    view: AssignmentView | None = None


@dataclass(frozen=True, slots=True)
class AssignmentDecision:
    """assign: give it to `agent_id`; queue: wait in `group`'s queue; wait: hold for `agent_id`.

    `flags` are set on the conversation with the decision; `note`, when given, is what the customer
    hears instead of the core's text (a hold has none of its own: without a note it is silent).
    """

    action: Literal["assign", "queue", "wait"]
    agent_id: int | None = None
    group: str | None = None
    reason: str = ""
    flags: dict[str, Any] = field(default_factory=dict)
    note: str | None = None


class Assigner(Protocol):
    """Optional `reads_view`: True when it decides from `request.view` alone, without reading the
    store; then hand-overs waiting together are decided together. Otherwise each is written before
    the next is decided, so what it reads includes the one before."""

    name: str
    priority: int
    handover_flags: tuple[str, ...]  # optional: flags of its decisions that end with the hand-over

    async def decide(self, request: AssignmentRequest) -> AssignmentDecision | None: ...


@dataclass(frozen=True, slots=True)
class QueueSpot:
    """Where a queued conversation stands: how many go first and roughly how long until its turn."""

    ahead: int
    agents: int  # online agents who can serve the group
    minutes: int


def places_in_queue(queued: Iterable[tuple[int, str | None, int, datetime]]) -> dict[int, int]:
    """For each queued conversation (id, group, priority, waiting since), how many go first: those
    of its group with a higher priority, or the same priority and waiting since earlier."""
    by_group: dict[str | None, list[tuple[int, datetime, int]]] = defaultdict(list)
    for conversation_id, group, priority, since in queued:
        by_group[group].append((-priority, since, conversation_id))
    ahead: dict[int, int] = {}
    for line in by_group.values():
        line.sort()
        first_alike = 0  # equal priority and waiting time: neither goes before the other
        for place, (rank, since, conversation_id) in enumerate(line):
            if place and line[place - 1][:2] != (rank, since):
                first_alike = place
            ahead[conversation_id] = first_alike
    return ahead


def estimate_wait(ahead: int, agents: int, handle_seconds: float) -> QueueSpot:
    """Each free agent serves one conversation per `handle_seconds`; round up to whole minutes."""
    seconds = (ahead + 1) * handle_seconds / max(agents, 1)
    return QueueSpot(ahead, agents, max(1, math.ceil(seconds / 60)))

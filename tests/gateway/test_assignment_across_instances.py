"""Two instances on one PostgreSQL hand conversations over at the same time: no agent goes over
capacity, no conversation is assigned twice, and each customer is told one agent's name. The same
for agents taking and transferring conversations on two instances at once.

Instance A is a running gateway; instance B is a second conversation service on the same store,
with a writer, a message store, an in-process lock and an assignment lock of its own (what another
`csgw serve` has). The hand-overs of both run concurrently; the invariants are checked on what
was committed, never on timing.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csgw.gateway.channel import InboundMessage
from csgw.gateway.conversations import ConversationError, ConversationService, HandoverAsk
from csgw.gateway.handover_desk import Handover, HandoverDesk
from csgw.gateway.models import Agent, Conversation, Message
from csgw.gateway.pipeline import Pipeline
from csgw.gateway.storage.db import plan_runner
from csgw.gateway.storage.pg_assignment_lock import ClusterAssignmentLock
from csgw.gateway.storage.records import ConversationState
from csgw.gateway.storage.store import ConversationUpdate, MessageStore
from csgw.gateway.storage.writer import GroupCommitWriter
from csgw.gateway.texts import text
from tests.conftest import POSTGRES_URL, reset_postgres
from tests.gateway.helpers import add_agent
from tests.routing.conftest import shop

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs CSGW_TEST_POSTGRES_URL")


class TwoInstances:
    """A running gateway (A) and a second instance's conversation service (B) on one store."""

    def __init__(self) -> None:
        self.stack = AsyncExitStack()
        self.rounds = 0
        self.messages = 0

    async def open(self, tmp_path: Path) -> TwoInstances:
        assert POSTGRES_URL
        await reset_postgres(POSTGRES_URL)
        self.shop = await self.stack.enter_async_context(shop(tmp_path, database_url=POSTGRES_URL))
        a = self.shop.services
        writer = GroupCommitWriter()
        writer.start(plan_runner(POSTGRES_URL))
        self.stack.push_async_callback(writer.close)
        lock = ClusterAssignmentLock(POSTGRES_URL)
        self.stack.push_async_callback(lock.close)
        self.a: ConversationService = a.conversations
        self.b = ConversationService(a.settings, MessageStore(writer), writer, a.events, a.outbox, a.assigners,
                                     a.channels, hooks=a.host, gateway=a, cluster_lock=lock)
        assert self.a.cluster_lock is not None  # the gateway on PostgreSQL has one
        self.b_pipeline = Pipeline(a.settings, self.b.store, writer, a.events, a.outbox, self.b,
                                   replies=a.reply_handlers, classifiers=a.classifiers, hooks=a.host, gateway=a)
        return self

    async def close(self) -> None:
        await self.stack.aclose()

    def desk(self, instance: ConversationService) -> HandoverDesk:
        pipeline = self.shop.services.pipeline if instance is self.a else self.b_pipeline
        return pipeline.handovers

    async def customer(self, instance: ConversationService) -> ConversationState:
        self.messages += 1
        stored = await instance.store.store_inbound(
            InboundMessage("fake", "shop", f"c-{self.messages}", "转人工", f"m-{self.messages}"))
        return await Conversation.get(id=stored.conversation_id)

    async def round(self, capacities: list[int], on_a: int, on_b: int) -> None:
        """Agents with `capacities`; `on_a` and `on_b` hand-overs at once; then all capacity freed at
        once and both instances serve the queue. The invariants hold after each step."""
        self.rounds += 1
        await Conversation.filter(state__not="closed").update(state="closed")
        await Agent.all().update(status="offline")
        agents = [(await add_agent(f"r{self.rounds}-{i}", max_concurrent=cap, status="online"))[0]
                  for i, cap in enumerate(capacities)]
        mine = [(self.a, await self.customer(self.a)) for _ in range(on_a)]
        mine += [(self.b, await self.customer(self.b)) for _ in range(on_b)]
        ids = [c.id for _, c in mine]
        await asyncio.gather(*(hand_over(self.desk(instance), c) for instance, c in mine))
        await check(agents, ids)
        assert await Conversation.filter(id__in=ids, state="assigned").count() == min(len(ids), sum(capacities))

        queued = await Conversation.filter(id__in=ids, state="queued").count()
        await Conversation.filter(id__in=ids, state="assigned").update(state="closed")  # capacity frees
        await asyncio.gather(self.a.dispatch_queue(), self.b.dispatch_queue())
        await check(agents, ids)
        assert await Conversation.filter(id__in=ids, state="assigned").count() == min(queued, sum(capacities))


async def hand_over(desk: HandoverDesk, conversation: ConversationState) -> None:
    """What the pipeline does when nobody answered: its hand-over desk decides and writes under the
    queue lock."""
    async def record(drafts: list, update: dict[str, Any]) -> list:
        return await desk.conversations.store.store_replies(conversation, drafts, update=ConversationUpdate(update))

    await desk.hand_over(Handover(HandoverAsk(conversation, None, 0), 0, [], {}, record))


async def check(agents: list[Agent], ids: list[int]) -> None:
    """No agent over capacity; each conversation told of at most one agent, the one it has."""
    notes = {text("handover.assigned", "zh-Hans", agent=a.display_name or a.name): a.id for a in agents}
    told: dict[int, list[int]] = {}
    for message in await Message.filter(conversation_id__in=ids, sender="system"):
        if message.text in notes:
            told.setdefault(message.conversation_id, []).append(notes[message.text])
    loads: dict[int, int] = {}
    for conversation in await Conversation.filter(id__in=ids):
        assert len(told.get(conversation.id, [])) <= 1, f"conversation {conversation.id} assigned {told}"
        if conversation.state == "assigned":
            assert told.get(conversation.id) == [conversation.agent_id]
            loads[conversation.agent_id] = loads.get(conversation.agent_id, 0) + 1
    for agent in agents:
        assert loads.get(agent.id, 0) <= agent.max_concurrent, f"{agent.name}: {loads} of {agent.max_concurrent}"


def run_rounds(tmp_path: Path, rounds: Any) -> None:
    """Open the two instances once, on one event loop, and play `rounds(runner, instances)`."""
    with asyncio.Runner() as runner:
        instances = runner.run(TwoInstances().open(tmp_path))
        try:
            rounds(runner, instances)
        finally:
            runner.run(instances.close())


def test_two_agents_at_one_each_racing_hand_overs_over_two_instances(tmp_path: Path) -> None:
    def rounds(runner: asyncio.Runner, instances: TwoInstances) -> None:
        for _ in range(8):
            runner.run(instances.round([1, 1], 3, 3))

    run_rounds(tmp_path, rounds)


def test_one_customer_writing_to_both_instances_at_once_is_handed_over_once(tmp_path: Path) -> None:
    """Two messages of one conversation, each answered on its instance while the other hands over."""

    async def scenario(instances: TwoInstances) -> None:
        agents = [(await add_agent(f"both-{i}", max_concurrent=1, status="online"))[0] for i in range(2)]
        for n in range(4):
            first = await instances.a.store.store_inbound(InboundMessage("fake", "shop", f"w-{n}", "转人工", f"w-{n}-1"))
            second = await instances.b.store.store_inbound(InboundMessage("fake", "shop", f"w-{n}", "人工", f"w-{n}-2"))
            assert first.conversation_id == second.conversation_id
            await asyncio.gather(instances.shop.services.pipeline.process(first), instances.b_pipeline.process(second))
            await check(agents, [first.conversation_id])
            await Conversation.filter(id=first.conversation_id).update(state="closed")

    def rounds(runner: asyncio.Runner, instances: TwoInstances) -> None:
        runner.run(scenario(instances))

    run_rounds(tmp_path, rounds)


def test_property_assignment_across_two_instances(tmp_path: Path) -> None:
    def rounds(runner: asyncio.Runner, instances: TwoInstances) -> None:
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
        @given(capacities=st.lists(st.integers(1, 3), min_size=1, max_size=3),
               on_a=st.integers(0, 5), on_b=st.integers(0, 5))
        def example(capacities: list[int], on_a: int, on_b: int) -> None:
            runner.run(instances.round(capacities, on_a, on_b))

        example()

    run_rounds(tmp_path, rounds)


async def at_once(calls: list[Any]) -> tuple[int, list[str]]:
    """Run the calls together: how many succeeded, and the codes of those refused."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, ConversationError):
            raise result
    return (sum(not isinstance(r, BaseException) for r in results),
            [r.code for r in results if isinstance(r, ConversationError)])


async def waiting(instances: TwoInstances, count: int) -> list[Conversation]:
    """`count` queued conversations; every other conversation closed, every agent offline."""
    await Conversation.filter(state__not="closed").update(state="closed")
    await Agent.all().update(status="offline")
    ids = [(await instances.customer(instances.a)).id for _ in range(count)]
    await Conversation.filter(id__in=ids).update(state="queued")
    return [await Conversation.get(id=ident) for ident in ids]


def test_two_agents_taking_one_conversation_on_two_instances_at_once(tmp_path: Path) -> None:
    async def scenario(instances: TwoInstances) -> None:
        for n in range(5):
            [conversation] = await waiting(instances, 1)
            agents = [(await add_agent(f"take-{n}-{i}", status="online"))[0] for i in range(2)]
            copies = [await Conversation.get(id=conversation.id) for _ in agents]  # as each request read it
            taken, refused = await at_once([instances.a.take(copies[0], agents[0]),
                                            instances.b.take(copies[1], agents[1])])
            assert (taken, refused) == (1, ["taken"])
            stored = await Conversation.get(id=conversation.id)
            assert stored.state == "assigned" and stored.agent_id in (agents[0].id, agents[1].id)

    run_rounds(tmp_path, lambda runner, instances: runner.run(scenario(instances)))


def test_an_agent_with_room_for_one_taking_two_on_two_instances_at_once_gets_one(tmp_path: Path) -> None:
    async def scenario(instances: TwoInstances) -> None:
        for n in range(5):
            first, second = await waiting(instances, 2)
            agent, _ = await add_agent(f"full-{n}", status="online", max_concurrent=1)
            taken, refused = await at_once([instances.a.take(first, agent), instances.b.take(second, agent)])
            assert (taken, refused) == (1, ["agent_full"])
            assert await Conversation.filter(agent_id=agent.id, state="assigned").count() == 1

    run_rounds(tmp_path, lambda runner, instances: runner.run(scenario(instances)))


def test_two_transfers_to_an_agent_with_room_for_one_on_two_instances_at_once(tmp_path: Path) -> None:
    async def scenario(instances: TwoInstances) -> None:
        for n in range(5):
            conversations = await waiting(instances, 2)
            senders = [(await add_agent(f"sender-{n}-{i}", status="online"))[0] for i in range(2)]
            for conversation, sender in zip(conversations, senders, strict=True):
                await Conversation.filter(id=conversation.id).update(state="assigned", agent_id=sender.id)
                conversation.state, conversation.agent_id = "assigned", sender.id
            target, _ = await add_agent(f"target-{n}", status="online", max_concurrent=1)
            moved, refused = await at_once([
                instances.a.transfer(conversations[0], agent_id=target.id, group=None),
                instances.b.transfer(conversations[1], agent_id=target.id, group=None)])
            assert (moved, refused) == (1, ["agent_full"])
            assert await Conversation.filter(agent_id=target.id, state="assigned").count() == 1

    run_rounds(tmp_path, lambda runner, instances: runner.run(scenario(instances)))

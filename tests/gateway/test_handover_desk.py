"""Hand-overs waiting together are decided in one hold of the queue lock (`gateway/handover_desk.py`),
each from the view the decisions before it left: an agent's last slot is given once, the customers
queued together hear different places, and a conversation is handed over once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from csgw.gateway import assignment_view, handover_desk
from csgw.gateway.channel import InboundMessage
from csgw.gateway.clock import now
from csgw.gateway.conversations import HandoverAsk, agent_loads, customer_profile
from csgw.gateway.handover_desk import HandedOver, Handover
from csgw.gateway.messages import DraftReply
from csgw.gateway.models import Conversation, Customer, Message
from csgw.gateway.routing import AssignmentDecision, AssignmentRequest
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.storage.records import ConversationState
from csgw.gateway.storage.store import ConversationUpdate
from tests.gateway.helpers import add_agent
from tests.routing.conftest import Shop, shop


async def conversations_of(s: Shop, count: int, first: int = 0) -> list[Conversation]:
    stored = [await s.services.store.store_inbound(InboundMessage("fake", "shop", f"u{i}", "在吗", f"m{i}"))
              for i in range(first, first + count)]
    return [await Conversation.get(id=one.conversation_id) for one in stored]


def handover(s: Shop, conversation: ConversationState, before: Callable[[], None] = lambda: None) -> Handover:
    """A hand-over of `conversation` whose record calls `before` first, then stores its replies."""
    async def record(drafts: list[DraftReply], update: dict[str, Any]) -> Any:
        before()
        return await s.services.store.store_replies(conversation, drafts, update=ConversationUpdate(update))

    return Handover(HandoverAsk(conversation, None, 0), 0, [], {}, record)


async def hand_over_together(s: Shop, conversations: list[Conversation]) -> list[HandedOver | BaseException]:
    """Submitted in one turn of the loop: the desk takes them as one batch; each one's outcome."""
    desk = s.services.pipeline.handovers
    return await asyncio.gather(*(desk.hand_over(handover(s, c)) for c in conversations), return_exceptions=True)


def count_lock_holds(s: Shop) -> list[int]:
    service = s.services.conversations
    held, lock = [], service.queue_lock

    @asynccontextmanager
    async def counted() -> AsyncIterator[None]:
        async with lock():
            held.append(1)
            yield

    service.queue_lock = counted
    return held


async def test_hand_overs_waiting_together_share_one_hold_and_the_last_slot_goes_once(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        agent, _ = await add_agent("solo", max_concurrent=1, status="online")
        waiting = await conversations_of(s, 3)
        held = count_lock_holds(s)
        done = await hand_over_together(s, waiting)
        assert len(held) == 1 and all(isinstance(one, HandedOver) and one.handed for one in done)
        stored = [await Conversation.get(id=c.id) for c in waiting]
        assert [c.state for c in stored] == ["assigned", "queued", "queued"]
        assert stored[0].agent_id == agent.id and await agent_loads([agent.id]) == {agent.id: 1}
        assert [c.flags["queue_told"]["ahead"] for c in stored[1:]] == [0, 1]
        said = [[m.text for m in await Message.filter(conversation_id=c.id, sender="system")] for c in stored]
        assert "Solo" in said[0][0] and "0" in said[1][0] and "1" in said[2][0]


async def test_a_conversation_twice_in_one_batch_is_handed_over_once(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        [conversation] = await conversations_of(s, 1)
        again = await Conversation.get(id=conversation.id)
        done = await hand_over_together(s, [conversation, again])
        assert [isinstance(one, HandedOver) and one.handed for one in done] == [True, False]
        assert await Message.filter(conversation_id=conversation.id, sender="system").count() == 1


class ReadsLoads:
    """An assigner reading the store itself: it sees only what is written."""

    name, priority, handover_flags = "reads_loads", 10, ()

    def __init__(self, agent_id: int) -> None:
        self.agent_id = agent_id

    async def decide(self, request: AssignmentRequest) -> AssignmentDecision:
        if (await agent_loads([self.agent_id])).get(self.agent_id, 0) < 1:
            return AssignmentDecision("assign", self.agent_id, request.group)
        return AssignmentDecision("queue", group=request.group)


async def test_an_assigner_reading_the_store_has_each_hand_over_written_before_the_next(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        agent, _ = await add_agent("solo", max_concurrent=5, status="online")
        s.services.conversations.assigners.insert(0, ReadsLoads(agent.id))
        waiting = await conversations_of(s, 3)
        await hand_over_together(s, waiting)
        assert await Conversation.filter(id__in=[c.id for c in waiting], state="assigned").count() == 1


class UnknownAgentFor:
    """Assigns one conversation to an agent that does not exist; passes on the others."""

    name, priority, handover_flags, reads_view = "unknown_agent", 10, (), True

    def __init__(self, conversation_id: int) -> None:
        self.conversation_id = conversation_id

    async def decide(self, request: AssignmentRequest) -> AssignmentDecision | None:
        if request.conversation_id == self.conversation_id:
            return AssignmentDecision("assign", 999_999, request.group)
        return None


async def test_a_hand_over_that_cannot_be_decided_fails_alone(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        waiting = await conversations_of(s, 3)
        s.services.conversations.assigners.insert(0, UnknownAgentFor(waiting[1].id))
        done = await hand_over_together(s, waiting)
        assert isinstance(done[1], KeyError)
        assert [c.state for c in [await Conversation.get(id=c.id) for c in waiting]] == ["queued", "bot", "queued"]


async def test_a_hand_over_arriving_while_the_hold_writes_is_decided_in_it_from_the_same_view(
        tmp_path, database_url, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(handover_desk, "HOLD_SECONDS", 3600)  # the hold stays open while hand-overs come
    async with shop(tmp_path, database_url=database_url) as s:
        agent, _ = await add_agent("solo", max_concurrent=1, status="online")
        first, second = await conversations_of(s, 2)
        held = count_lock_holds(s)
        desk = s.services.pipeline.handovers
        later: list[asyncio.Future[HandedOver]] = []
        await desk.hand_over(handover(s, first, lambda: later.append(
            asyncio.ensure_future(desk.hand_over(handover(s, second))))))
        assert (await later[0]).handed and len(held) == 1
        stored = [await Conversation.get(id=c.id) for c in (first, second)]
        assert [(c.state, c.agent_id) for c in stored] == [("assigned", agent.id), ("queued", None)]
        assert stored[1].flags["queue_told"]["ahead"] == 0


def counting_rows(rows: list[int]) -> type[Sql]:
    """The assignment view's SQL, each statement's rows counted (the ORM's customer read is by id)."""
    class Counted(Sql):
        async def rows(self, query: str, **params: Any) -> list[dict[str, Any]]:
            result = await super().rows(query, **params)
            rows.append(len(result))
            return result

    return Counted


async def queue_up(count: int, first: int = 0, group: str | None = None) -> None:
    """`count` conversations waiting a few seconds already, of customers numbered from `first`."""
    since = now() - timedelta(seconds=5)
    await Conversation.bulk_create([
        Conversation(customer_id=100_000 + i, channel="fake", account="shop", thread_key=f"queued{i}",
                     state="queued", group=group, waiting_since=since, opened_at=since, last_message_at=since)
        for i in range(first, first + count)])


async def hand_over_two_counting_rows(s: Shop, first: int, monkeypatch: pytest.MonkeyPatch
                                      ) -> tuple[int, list[int]]:
    """Two new conversations handed over together, nobody online: the rows the assignment view
    read, and the places the two were told."""
    rows: list[int] = []
    waiting = await conversations_of(s, 2, first)
    with monkeypatch.context() as patched:
        patched.setattr(assignment_view, "Sql", counting_rows(rows))
        done = await hand_over_together(s, waiting)
    assert all(isinstance(one, HandedOver) and one.handed for one in done)
    return sum(rows), [(await Conversation.get(id=c.id)).flags["queue_told"]["ahead"] for c in waiting]


async def test_what_a_hand_over_reads_does_not_grow_with_the_queue(tmp_path, database_url, monkeypatch):
    async with shop(tmp_path, database_url=database_url) as s:
        await queue_up(3, group="returns")
        await queue_up(17, first=3)
        few, told = await hand_over_two_counting_rows(s, 0, monkeypatch)
        assert told == [17, 18]
        await queue_up(180, first=20)
        many, told = await hand_over_two_counting_rows(s, 2, monkeypatch)
        assert told == [199, 200] and many == few


async def test_a_later_batch_of_one_hold_hears_the_places_after_the_earlier_ones(
        tmp_path, database_url, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(handover_desk, "HOLD_SECONDS", 3600)  # the hold stays open while hand-overs come
    async with shop(tmp_path, database_url=database_url) as s:
        await queue_up(3)
        first, second, third = await conversations_of(s, 3)
        desk = s.services.pipeline.handovers
        later: list[asyncio.Future[HandedOver]] = []
        # the second arrives while the first is written, the third once the first has committed
        await desk.hand_over(handover(s, first, lambda: later.append(
            asyncio.ensure_future(desk.hand_over(handover(s, second))))))
        await desk.hand_over(handover(s, third))
        assert (await later[0]).handed
        told = [(await Conversation.get(id=c.id)).flags["queue_told"]["ahead"] for c in (first, second, third)]
        assert told == [3, 4, 5]


async def test_the_view_reads_a_customer_as_the_store_has_it(tmp_path, database_url):
    async with shop(tmp_path, database_url=database_url) as s:
        agent, _ = await add_agent("vip-desk")
        [waiting] = await conversations_of(s, 1)
        await Customer.filter(id=waiting.customer_id).update(
            vip=True, exclusive_agent_id=agent.id, state="aftersale", tags=["老客", "退货"],
            orders=[{"order_no": "A1", "status": "shipped"}])
        view = await assignment_view.AssignmentView.read([waiting])
        stored = customer_profile(await Customer.get(id=waiting.customer_id))
        assert view.customers[waiting.customer_id] == stored
        assert stored["vip"] is True and stored["tags"] == ["老客", "退货"] and stored["orders"][0]["order_no"] == "A1"

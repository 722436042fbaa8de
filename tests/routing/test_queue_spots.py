"""Every queued conversation's place, read in one pass of the queue, is the place `queue_spot`
counts for it one by one: same groups, priorities first, ties in waiting time side by side."""

from __future__ import annotations

import random
from datetime import timedelta

from csgw.gateway.clock import now
from csgw.gateway.models import Conversation
from csgw.gateway.routing import places_in_queue
from csgw.testing import running_gateway
from tests.gateway.helpers import add_agent


def test_places_count_higher_priorities_and_earlier_waits_of_the_same_group():
    t = now()
    queue = [(1, "鞋", 0, t), (2, "鞋", 5, t + timedelta(seconds=9)), (3, "鞋", 0, t - timedelta(seconds=1)),
             (4, None, 0, t), (5, "鞋", 0, t), (6, "包", 0, t)]
    assert places_in_queue(queue) == {2: 0, 3: 1, 1: 2, 5: 2, 4: 0, 6: 0}


async def test_one_read_of_the_queue_agrees_with_counting_each(tmp_path, database_url):
    rng = random.Random(19)
    async with running_gateway(tmp_path, database_url=database_url) as gw:
        await add_agent("lily", skills=["鞋"], status="online")
        conversations = gw.services.conversations
        async with conversations.queue_lock():  # the gateway's assigner waits: lily could serve 鞋
            start = now()
            for number in range(60):
                since = start + timedelta(seconds=rng.randint(0, 20))  # ties on purpose
                await Conversation.create(customer_id=number + 1, channel="fake", account="a", state="queued",
                                          group=rng.choice(["鞋", "包", None]), priority=rng.choice([0, 0, 5, 10]),
                                          waiting_since=since, opened_at=since, last_message_at=since)
            spots = await conversations.queue_spots()
            queued = await Conversation.filter(state="queued")
            assert len(spots) == len(queued) == 60
            for conversation in queued:
                one = await conversations.queue_spot(conversation, conversation.group, conversation.priority,
                                                     conversation.waiting_since)
                assert spots[conversation.id] == one, conversation.id

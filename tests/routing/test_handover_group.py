"""Where the knowledge-base bot hands over after two misses: the nearest KB category is a hint,
taken only when an online agent is in that group; else the channel's or the default group, so a
customer is never left waiting for a group nobody serves while an agent is free."""

from __future__ import annotations

from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Conversation, Message
from csgw.testing import RunningGateway, running_gateway
from tests.gateway.helpers import add_agent
from tests.routing.conftest import SLOW_TIMERS

# Two misses of the demo shop's bot; the second is nearest to an entry of the category 其他.
MISSES = ("今天天气怎么样", "股票明天会涨吗")
HINT = "其他"


async def two_misses(gw: RunningGateway, account: str, user: str) -> Conversation:
    for n, text in enumerate(MISSES):
        accepted = await gw.services.accept(InboundMessage("fake", account, user, text, f"{user}-{n}"))
        await gw.services.pipeline.drain()
    return await Conversation.get(id=accepted.conversation_id)


async def told(conversation: Conversation) -> list[str]:
    """What the customer was told, as stored (delivery runs on its own)."""
    return [m.text for m in await Message.filter(conversation_id=conversation.id, direction="out").order_by("id")]


async def test_a_category_no_agent_has_does_not_strand_the_customer(tmp_path, database_url):
    async with running_gateway(tmp_path, database_url=database_url, channels=[{"plugin": "fake", "account": "shop"}],
                               assignment=SLOW_TIMERS) as gw:
        alice, _ = await add_agent("alice", ["售前"], status="online")
        conversation = await two_misses(gw, "shop", "u1")
        assert (conversation.state, conversation.agent_id) == ("assigned", alice.id)
        assert conversation.group is None  # no channel or default group: anyone free
        said = await told(conversation)
        assert "已为您转接人工客服 Alice，请稍候。" in said
        assert not any("客服暂时不在线" in text for text in said)


async def test_the_category_is_taken_when_an_online_agent_is_in_it(tmp_path, database_url):
    channels = [{"plugin": "fake", "account": "shop", "group": "售前"}]
    async with running_gateway(tmp_path, database_url=database_url, channels=channels,
                               assignment=SLOW_TIMERS) as gw:
        alice, _ = await add_agent("alice", ["售前"], status="online")
        other, _ = await add_agent("other", [HINT], status="online")
        hinted = await two_misses(gw, "shop", "u1")
        assert (hinted.group, hinted.agent_id) == (HINT, other.id)

        other.status = "offline"
        await other.save()
        # The only agent of the hinted group is offline: the channel's group, whose agent is free.
        fallback = await two_misses(gw, "shop", "u2")
        assert (fallback.group, fallback.agent_id) == ("售前", alice.id)


async def test_a_channel_group_nobody_has_falls_back_to_anyone(tmp_path):
    channels = [{"plugin": "fake", "account": "shop", "group": "无人组"}]
    async with running_gateway(tmp_path, channels=channels, assignment={**SLOW_TIMERS, "default_group": "也无人"}) as gw:
        alice, _ = await add_agent("alice", ["售前"], status="online")
        conversation = await two_misses(gw, "shop", "u1")
        assert (conversation.group, conversation.agent_id) == (None, alice.id)

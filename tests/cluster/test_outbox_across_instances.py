"""Agent replies to WeChat customers sent through three instances in turn reach the platform once
each and in order per customer: every instance's outbox drains one shared table."""

from __future__ import annotations

from collections import defaultdict

import aiohttp
import pytest

from csgw.gateway.models import Conversation, OutboxItem
from csgw.gateway.storage.db import close_database, open_database
from tests.cluster.conftest import three_instances
from tests.conftest import POSTGRES_URL
from tests.fakes.wechat_platform import FakeWechatPlatform
from tests.gateway.helpers import AgentClient, add_agent, wait_for_condition

CUSTOMERS, REPLIES_EACH = 6, 6


@pytest.fixture(params=["postgres"] if POSTGRES_URL else [])
def shared_store(request) -> str:
    """Several instances need PostgreSQL (CI sets CSGW_TEST_POSTGRES_URL)."""
    assert POSTGRES_URL
    return POSTGRES_URL


async def test_replies_through_alternating_instances_reach_wechat_once_in_order(tmp_path, shared_store):
    async with FakeWechatPlatform() as platform:
        platform.oa.add_app("wx1", "app-secret", token="tok")
        channel = ('[[channels]]\nplugin = "wechat_oa"\naccount = "shop"\ntoken = "tok"\napp_id = "wx1"\n'
                   f'app_secret = "app-secret"\napi_base = "{platform.url}"\n')
        async with three_instances(tmp_path, channel) as servers:
            await open_database(shared_store)
            try:
                _, token = await add_agent("alice", status="online", max_concurrent=CUSTOMERS)  # she takes them all
                for n in range(CUSTOMERS):  # each writes to a different instance
                    openid = f"o{n}"
                    platform.oa.apps["wx1"].callback = f"{servers[n % 3].url}/webhooks/wechat_oa/shop"
                    platform.oa.user_message("wx1", openid)
                    platform.oa.windows[("wx1", openid)].quota = 1000
                    delivery = await platform.oa.deliver(platform.oa.message("wx1", openid, "你好"))
                    assert delivery.status == 200

                async def all_conversations() -> bool:
                    return await Conversation.filter(channel="wechat_oa").count() == CUSTOMERS

                await wait_for_condition(all_conversations, timeout=15)
                conversations = {c.id: c for c in await Conversation.filter(channel="wechat_oa")}
                async with aiohttp.ClientSession() as session:
                    agents = [AgentClient(session, server.url, token) for server in servers]
                    number = 0
                    for round_ in range(REPLIES_EACH):
                        for conversation_id in sorted(conversations):
                            await agents[number % 3].call("POST", f"/conversations/{conversation_id}/messages",
                                                          {"text": f"回复-{round_}"}, expect=201)
                            number += 1

                def agent_sends() -> list[dict]:
                    return [s for s in platform.oa.sent if s.get("text", {}).get("content", "").startswith("回复-")]

                async def all_sent() -> bool:
                    return (len(agent_sends()) >= CUSTOMERS * REPLIES_EACH
                            and await OutboxItem.filter(state="pending").count() == 0)

                await wait_for_condition(all_sent, timeout=60)
                by_customer: dict[str, list[str]] = defaultdict(list)
                for send in agent_sends():
                    by_customer[send["touser"]].append(send["text"]["content"])
                assert len(agent_sends()) == CUSTOMERS * REPLIES_EACH  # none twice
                assert all(texts == [f"回复-{r}" for r in range(REPLIES_EACH)] for texts in by_customer.values())
                assert len(by_customer) == CUSTOMERS
            finally:
                await close_database()

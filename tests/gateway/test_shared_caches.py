"""Caches of instances sharing one store never serve a customer merged away on another instance:
the write plan re-checks each cached customer and open conversation against the store."""

from __future__ import annotations

from csgw.gateway.binding import merge_customers
from csgw.gateway.channel import InboundMessage
from csgw.gateway.models import Conversation, Customer
from csgw.gateway.storage.db import close_database, open_database, plan_runner
from csgw.gateway.storage.store import MessageStore
from csgw.gateway.storage.writer import GroupCommitWriter


async def test_a_customer_merged_through_one_instance_is_not_used_by_anothers_cache(database_url):
    await open_database(database_url)
    writer = GroupCommitWriter()
    writer.start(plan_runner(database_url))
    try:
        here, there = MessageStore(writer), MessageStore(writer)  # two instances' caches
        first = await there.store_inbound(InboundMessage("webchat", "default", "visitor-1", "你好", "m-1"))
        kept = await here.store_inbound(InboundMessage("wechat_oa", "shop", "openid-1", "在吗", "m-2"))
        await merge_customers(writer, here, await Customer.get(id=kept.customer_id),
                              await Customer.get(id=first.customer_id))

        again = await there.store_inbound(InboundMessage("webchat", "default", "visitor-1", "还在吗", "m-3"))
        assert again.customer_id == kept.customer_id
        assert again.conversation_id == first.conversation_id  # the open one, moved with the merge
        assert not await Customer.filter(id=first.customer_id).exists()
        assert set(await Conversation.all().values_list("customer_id", flat=True)) == {kept.customer_id}
    finally:
        await writer.close()
        await close_database()

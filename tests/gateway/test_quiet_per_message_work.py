"""Work a message does not start when nobody needs it: the builtin message hooks give nothing to
await for a plain message (no task per message), and the customer is not read for a live context
no plugin provides."""

from __future__ import annotations

from typing import Any

import csgw.gateway.services as services_module
from csgw.gateway.channel import InboundMessage
from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.models import Conversation, Message
from csgw.gateway.views import message_view
from csgw.testing import running_gateway

FAKE = [{"plugin": "fake", "account": "shop"}]


class ShopContext:
    @hookimpl
    async def csgw_customer_context(self, customer: dict[str, Any]) -> dict[str, Any]:
        return {"orders_seen_for": customer["id"]}


async def test_the_builtin_message_hooks_give_nothing_to_await_for_a_plain_message(tmp_path):
    async with running_gateway(tmp_path, channels=FAKE) as gw:
        accepted = await gw.services.accept(InboundMessage("fake", "shop", "u-1", "下单后多久发货", "m-1"))
        await gw.services.pipeline.drain()
        view = message_view(await Message.get(id=accepted.message_id))
        results = gw.services.host.pm.hook.csgw_message_received(services=gw.services, message=view,
                                                                 profile={"nickname": "小王"})
        assert results == []  # binding and webchat: not a vouched sender, no code, not a left message


async def test_the_customer_is_read_for_a_live_context_only_when_a_plugin_provides_one(tmp_path, monkeypatch):
    async with running_gateway(tmp_path, channels=FAKE) as gw:
        accepted = await gw.services.accept(InboundMessage("fake", "shop", "u-1", "你好", "m-1"))
        customer_id = (await Conversation.get(id=accepted.conversation_id)).customer_id
        read: list[int] = []
        view = services_module.hook_customer_view

        async def reading(customer: int) -> dict[str, Any] | None:
            read.append(customer)
            return await view(customer)

        monkeypatch.setattr(services_module, "hook_customer_view", reading)
        assert (await gw.services.customer_context(customer_id)).context == {}
        assert read == []
        gw.services.host.pm.register(ShopContext(), name="shop_context")
        assert (await gw.services.customer_context(customer_id)).context == {"orders_seen_for": customer_id}
        assert read == [customer_id]

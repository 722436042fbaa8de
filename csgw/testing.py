"""The test harness csgw ships for plugin authors: a real gateway on a loopback port and a fake channel.

    from csgw.testing import running_gateway

    async with running_gateway(tmp_path, extra_plugins=[("mine", my_plugin)],
                               channels=[{"plugin": "fake", "account": "a"}]) as gw:
        await gw.services.accept(InboundMessage("fake", "a", "user-1", "你好", "m1"))
        sent = await gw.fake("a").wait_sent(1)
"""

from __future__ import annotations

from csgw.gateway.testing import (
    FakeChannel,
    FakeChannelConfig,
    RunningGateway,
    make_settings,
    running_gateway,
    use_default_sections,
)

__all__ = [
    "FakeChannel",
    "FakeChannelConfig",
    "RunningGateway",
    "make_settings",
    "running_gateway",
    "use_default_sections",
]

"""The test harness csgw ships for plugin authors: a real gateway on a loopback port and a fake channel.

    from csgw.testing import running_gateway

    async with running_gateway(tmp_path, extra_plugins=[("mine", my_plugin)],
                               channels=[{"plugin": "fake", "account": "a"}]) as gw:
        await gw.services.accept(InboundMessage("fake", "a", "user-1", "你好", "m1"))
        sent = await gw.fake("a").wait_sent(1)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from csgw.app import create_app
from csgw.gateway.api.context import SERVICES
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
from csgw.gateway.services import GatewayServices
from csgw.gateway.testing import (
    FakeChannel,
    FakeChannelConfig,
    FakeChannelPlugin,
    make_settings,
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


@dataclass
class RunningGateway:
    server: TestServer
    services: GatewayServices

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def fake(self, account: str) -> FakeChannel:
        channel = self.services.channel("fake", account)
        assert isinstance(channel, FakeChannel)
        return channel


@asynccontextmanager
async def running_gateway(
    tmp_path: Path, *, database_url: str | None = None, extra_plugins: list[tuple[str, object]] | None = None,
    disabled: list[str] | None = None, **sections: Any,
) -> AsyncIterator[RunningGateway]:
    """Start the real app on a loopback port with csgw's builtins, the fake channel type and
    `extra_plugins`; other installed plugins are not loaded."""
    settings = make_settings(tmp_path, database_url, **sections)
    pm = get_plugin_manager(disabled=disabled or [], only_distribution="csgw",
                            extra=[("fake_channel", FakeChannelPlugin()), *(extra_plugins or [])])
    app: web.Application = create_app(settings, PluginHost(pm))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield RunningGateway(server, app[SERVICES])
    finally:
        await server.close()

"""Test helpers shipped for plugin authors: a fake channel and an in-process gateway.

    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}]) as gw:
        accepted = await gw.services.accept(InboundMessage("fake", "a", "user-1", "你好", "m1"))
        sent = await gw.fake("a").wait_sent(1)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from aiohttp import web
from aiohttp.test_utils import TestServer

from csgw.config.loader import settings_from_dict
from csgw.gateway.app import create_app
from csgw.gateway.channel import Channel, ChannelConfig, OutboundMessage, SendError
from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.plugin_host import PluginHost, get_plugin_manager
from csgw.gateway.services import GatewayServices


class FakeChannelConfig(ChannelConfig):
    fail_times: int = 0  # the first N sends fail (retryable)
    fail_code: str | None = None  # with fail_permanently: the code of a non-retryable failure
    fail_permanently: bool = False


class FakeChannel(Channel):
    """Records what the gateway sends; can be told to fail, to test retries."""

    plugin: ClassVar[str] = "fake"
    Config = FakeChannelConfig
    config: FakeChannelConfig

    def __init__(self, config: FakeChannelConfig, services: Any) -> None:
        super().__init__(config, services)
        self.sent: list[OutboundMessage] = []
        self.attempts: list[OutboundMessage] = []
        self._changed = asyncio.Condition()

    async def send(self, message: OutboundMessage) -> None:
        self.attempts.append(message)
        if self.config.fail_permanently:
            raise SendError("refused by the fake platform", retryable=False, code=self.config.fail_code)
        if len(self.attempts) <= self.config.fail_times:
            raise SendError("fake platform unavailable", code="503")
        self.sent.append(message)
        async with self._changed:
            self._changed.notify_all()

    async def wait_sent(self, count: int, timeout: float = 10) -> list[OutboundMessage]:
        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.sent) >= count)

        await asyncio.wait_for(reached(), timeout)
        return self.sent


class FakeChannelPlugin:
    @hookimpl
    def csgw_channel_types(self) -> list[type]:
        return [FakeChannel]


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


# Sections every gateway a test suite starts gets unless the test says otherwise: a suite sets its
# own with `use_default_sections` (csgw's: the demo KB, words only). The core knows no plugin.
DEFAULT_SECTIONS: dict[str, Any] = {
    # tests change thresholds and state and read the next report at once
    "health": {"report_max_age_seconds": 0},
}


def use_default_sections(**sections: Any) -> None:
    """Add or replace default sections (merged key by key) for every later `running_gateway`."""
    for key, value in sections.items():
        DEFAULT_SECTIONS[key] = {**DEFAULT_SECTIONS.get(key, {}), **value} if isinstance(value, dict) else value


def make_settings(tmp_path: Path, database_url: str | None = None, **sections: Any):
    raw: dict[str, Any] = {"server": {"data_dir": str(tmp_path / "data")},
                           "database": {"url": database_url or f"sqlite://{tmp_path}/csgw.db"},
                           **{key: dict(value) if isinstance(value, dict) else value
                              for key, value in DEFAULT_SECTIONS.items()}}
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return settings_from_dict(raw, "test.toml", base_dir=tmp_path)


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
        from csgw.gateway.api.context import SERVICES

        yield RunningGateway(server, app[SERVICES])
    finally:
        await server.close()

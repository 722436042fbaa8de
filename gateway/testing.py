"""Test fakes for the core: a channel that records what the gateway sends, and test settings.

The running gateway (`running_gateway`) is in `csgw.testing`: it needs the whole app, health included.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from csgw.config.loader import settings_from_dict
from csgw.gateway.channel import Channel, ChannelConfig, OutboundMessage, SendError
from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.services import GatewayServices


class FakeClock:
    """A clock a test sets and moves; install it with `csgw.gateway.clock.use_clock(clock)`."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        """Move on by `timedelta(**delta)` (hours=1, seconds=30); the new time."""
        self.at += timedelta(**delta)
        return self.at


class FakeChannelConfig(ChannelConfig):
    fail_times: int = 0  # the first N sends fail (retryable)
    fail_code: str | None = None  # with fail_permanently: the code of a non-retryable failure
    fail_permanently: bool = False


class FakeChannel(Channel):
    """Records what the gateway sends; can be told to fail, to test retries."""

    plugin: ClassVar[str] = "fake"
    Config = FakeChannelConfig
    config: FakeChannelConfig

    def __init__(self, config: FakeChannelConfig, services: GatewayServices) -> None:
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

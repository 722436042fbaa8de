"""Fixtures for the xiaohongshu tests: the fake platform, the real gateway with one brand account."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from importlib.metadata import entry_points
from typing import Any

import aiohttp
import pytest

from csgw.plugins.xiaohongshu import plugin as xiaohongshu_plugin
from csgw.testing import RunningGateway, running_gateway
from tests.fakes.xiaohongshu_platform import TOKEN_PATH, FakeXiaohongshuPlatform, encrypted_push

TOKEN = "xhs-push-token"
AES_KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
APP_KEY = "red-app-key"
APP_SECRET = "red-app-secret"


def xiaohongshu_plugins() -> list[tuple[str, object]]:
    # Registered by entry point once the installed metadata names it; until then, handed over here.
    registered = any(ep.name == "xiaohongshu" for ep in entry_points(group="csgw"))
    return [] if registered else [("xiaohongshu", xiaohongshu_plugin)]


def channel_entry(platform: FakeXiaohongshuPlatform, **extra: Any) -> dict[str, Any]:
    return {"plugin": "xiaohongshu", "account": "brand", "token": TOKEN, "encoding_aes_key": AES_KEY,
            "app_key": APP_KEY, "app_secret": APP_SECRET, "api_base": platform.base_url, **extra}


def partner_entry(platform: FakeXiaohongshuPlatform, **extra: Any) -> dict[str, Any]:
    """A channel entry with the access token and the pull fallback (a long interval: tests pull by hand)."""
    return channel_entry(platform, adapter={"token_path": TOKEN_PATH}, pull_interval_seconds=60, **extra)


def dm(text: str, message_id: str, user: str = "red-user-1", *, age: float = 0, **extra: Any) -> dict[str, Any]:
    """A private message as the platform pushes or serves it, written `age` seconds ago."""
    return {"message_id": message_id, "from_user_id": user, "message_type": "TEXT", "content": text,
            "timestamp": int((time.time() - age) * 1000), **extra}


class Pusher:
    """Plays the platform pushing to `/webhooks/xiaohongshu/brand` over real HTTP."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url

    async def push(self, message: dict[str, Any], **options: Any) -> tuple[int, str]:
        query, body = encrypted_push(message, token=TOKEN, encoding_aes_key=AES_KEY,
                                     receiver_id=APP_KEY, **options)
        return await self.raw(query, body)

    async def raw(self, query: dict[str, str], body: Any) -> tuple[int, str]:
        data = body if isinstance(body, bytes) else None
        async with self.http.post(self.url, params=query, data=data,
                                  json=None if data is not None else body) as resp:
            return resp.status, await resp.text()


@pytest.fixture
async def platform() -> AsyncIterator[FakeXiaohongshuPlatform]:
    async with FakeXiaohongshuPlatform(app_key=APP_KEY, app_secret=APP_SECRET) as fake:
        yield fake


@pytest.fixture
async def partner() -> AsyncIterator[FakeXiaohongshuPlatform]:
    """The fake with access tokens required, for the token and pull tests."""
    async with FakeXiaohongshuPlatform(app_key=APP_KEY, app_secret=APP_SECRET, require_token=True) as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def gateway(tmp_path, database_url, platform) -> AsyncIterator[RunningGateway]:
    async with running_gateway(tmp_path, database_url=database_url, extra_plugins=xiaohongshu_plugins(),
                               channels=[channel_entry(platform)]) as gw:
        yield gw


@pytest.fixture
def pusher(gateway, http) -> Pusher:
    return Pusher(http, gateway.url + "/webhooks/xiaohongshu/brand")

"""Fixtures for the WeChat tests: the fake platform and an HTTP client."""

from __future__ import annotations

import aiohttp
import pytest

from tests.fakes.wechat_platform import FakeWechatPlatform


@pytest.fixture
async def platform():
    async with FakeWechatPlatform() as fake:
        yield fake


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session

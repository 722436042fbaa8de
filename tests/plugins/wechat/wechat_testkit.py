"""The real gateway wired to the fake WeChat platform, for the channels' end-to-end tests."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from csgw.gateway.models import Message
from csgw.testing import RunningGateway, running_gateway
from tests.fakes.wechat_platform import FakeWechatPlatform
from tests.gateway.helpers import wait_for_condition
from tests.plugins.wechat.keys import AES_KEY

OA_ACCOUNT, KF_ACCOUNT = "shop", "kf"


@asynccontextmanager
async def oa_gateway(
    tmp_path: Path, platform: FakeWechatPlatform, database_url: str | None = None, *,
    app_key: str | None = None, extra_plugins: list[tuple[str, object]] | None = None,
    sections: dict[str, Any] | None = None, **channel: Any,
) -> AsyncIterator[RunningGateway]:
    """The gateway with one `wechat_oa` account; the fake's app pushes to it (encrypted with
    `app_key`, or with the channel's `encoding_aes_key`, when either is given). `sections`: more
    of the gateway's settings (`{"llm": {...}}`)."""
    platform.oa.add_app("wx1", "app-secret", token="tok", encoding_aes_key=app_key or channel.get("encoding_aes_key"))
    config = {"plugin": "wechat_oa", "account": OA_ACCOUNT, "token": "tok", "app_id": "wx1",
              "app_secret": "app-secret", "api_base": platform.url, **channel}
    async with running_gateway(tmp_path, database_url=database_url, channels=[config],
                               extra_plugins=extra_plugins, **(sections or {})) as gw:
        platform.oa.apps["wx1"].callback = f"{gw.url}/webhooks/wechat_oa/{OA_ACCOUNT}"
        yield gw


@asynccontextmanager
async def kf_gateway(
    tmp_path: Path, platform: FakeWechatPlatform, database_url: str | None = None, *,
    open_kfids: tuple[str, ...] = ("wk1",), sections: dict[str, Any] | None = None, **channel: Any,
) -> AsyncIterator[RunningGateway]:
    """The gateway with one `wecom_kf` account; the safety-net timer is off, pushes drive pulls.
    `sections`: more of the gateway's settings (`{"database": {...}}`)."""
    corp = platform.kf.add_corp("ww1", "corp-secret", open_kfids=open_kfids, token="kt",
                                encoding_aes_key=AES_KEY)
    config = {"plugin": "wecom_kf", "account": KF_ACCOUNT, "corp_id": "ww1", "secret": "corp-secret",
              "token": "kt", "encoding_aes_key": AES_KEY, "open_kfid": list(open_kfids),
              "api_base": platform.url, "poll_interval": 3600, **channel}
    async with running_gateway(tmp_path, database_url=database_url, channels=[config], **(sections or {})) as gw:
        corp.callback = f"{gw.url}/webhooks/wecom_kf/{KF_ACCOUNT}"
        yield gw


async def messages(channel: str, **filters: Any) -> list[Message]:
    return await Message.filter(channel=channel, **filters).order_by("id")


_TRUTHY = object()


async def wait_until(check, equals: Any = _TRUTHY, timeout: float = 10) -> None:
    """Wait until `check()` (a value or an awaitable) is truthy, or equal to `equals`."""
    async def holds() -> bool:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        return bool(result) if equals is _TRUTHY else result == equals

    await wait_for_condition(holds, timeout)

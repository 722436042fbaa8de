"""Registers the two WeChat channel types with csgw, one entry point each (`wechat_oa` is
`csgw.plugins.wechat.plugin:oa`, `wecom_kf` is `:kf`): their greetings and event replies. A channel
(its XML, crypto, API client and aiohttp) is imported only when a gateway builds its channels, not
by every command that loads plugins."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from csgw.gateway.hookspecs import hookimpl
from csgw.plugins.wechat.events import EventReplies, greeting_texts

if TYPE_CHECKING:
    from csgw.config.schema import Settings


class WechatPlugin:
    def __init__(self, plugin: str, channel: str) -> None:
        self.plugin = plugin
        self.channel = channel  # "module:Class"

    @hookimpl
    def csgw_channel_types(self) -> list[type]:
        module, _, name = self.channel.partition(":")
        channel: type = getattr(importlib.import_module(module), name)
        return [channel]

    @hookimpl
    def csgw_reply_handlers(self, settings: Settings) -> list[EventReplies]:
        return [EventReplies(self.plugin, settings)]

    @hookimpl
    def csgw_texts(self) -> dict[str, dict[str, str]]:
        return greeting_texts(self.plugin)


oa = WechatPlugin("wechat_oa", "csgw.plugins.wechat.oa_channel:WechatOAChannel")
kf = WechatPlugin("wecom_kf", "csgw.plugins.wechat.kf_channel:WecomKfChannel")

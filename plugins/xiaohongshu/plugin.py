"""Registers the `xiaohongshu` channel type with csgw."""

from __future__ import annotations

from csgw.gateway.hookspecs import hookimpl
from csgw.plugins.xiaohongshu.channel import XiaohongshuChannel


@hookimpl
def csgw_channel_types() -> list[type]:
    return [XiaohongshuChannel]

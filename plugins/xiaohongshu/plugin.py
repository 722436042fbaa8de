"""Registers the `xiaohongshu` channel type with csgw; the channel and its API client are imported
only when a gateway builds its channels, not by every command that loads plugins."""

from __future__ import annotations

from csgw.gateway.hookspecs import hookimpl


@hookimpl
def csgw_channel_types() -> list[type]:
    from csgw.plugins.xiaohongshu.channel import XiaohongshuChannel

    return [XiaohongshuChannel]

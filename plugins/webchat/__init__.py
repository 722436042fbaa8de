"""The builtin site chat widget channel (`webchat`)."""

from __future__ import annotations

from csgw.gateway.hookspecs import hookimpl
from csgw.plugins.webchat.channel import WebchatChannel
from csgw.plugins.webchat.site import TEXTS


@hookimpl
def csgw_channel_types() -> list[type]:
    return [WebchatChannel]


@hookimpl
def csgw_texts() -> dict[str, dict[str, str]]:
    return TEXTS

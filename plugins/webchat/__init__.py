"""The builtin site chat widget channel (`webchat`). The channel (its socket server, aiohttp) is
imported when a gateway builds its channels, not by every command loading plugins."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from csgw.gateway.hookspecs import hookimpl
from csgw.plugins.webchat.leave_message import LeftMessageHandover, left_contact, remember_contact
from csgw.plugins.webchat.site import TEXTS

if TYPE_CHECKING:
    from csgw.config.schema import Settings
    from csgw.gateway.ports import Gateway


@hookimpl
def csgw_channel_types() -> list[type]:
    from csgw.plugins.webchat.channel import WebchatChannel

    return [WebchatChannel]


@hookimpl
def csgw_texts() -> dict[str, dict[str, str]]:
    return TEXTS


@hookimpl
def csgw_reply_handlers(settings: Settings) -> list[LeftMessageHandover]:
    return [LeftMessageHandover()]


@hookimpl
def csgw_message_received(services: Gateway, message: dict[str, Any], profile: dict[str, Any] | None
                          ) -> Awaitable[None] | None:
    left = left_contact(message)  # most messages are not left messages: nothing to await
    return remember_contact(services, message, left) if left is not None else None

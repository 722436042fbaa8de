"""The builtin site chat widget channel (`webchat`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from csgw.gateway.hookspecs import hookimpl
from csgw.plugins.webchat.channel import WebchatChannel
from csgw.plugins.webchat.leave_message import LeftMessageHandover, remember_contact
from csgw.plugins.webchat.site import TEXTS

if TYPE_CHECKING:
    from csgw.config.schema import Settings
    from csgw.gateway.ports import Gateway


@hookimpl
def csgw_channel_types() -> list[type]:
    return [WebchatChannel]


@hookimpl
def csgw_texts() -> dict[str, dict[str, str]]:
    return TEXTS


@hookimpl
def csgw_reply_handlers(settings: Settings) -> list[LeftMessageHandover]:
    return [LeftMessageHandover()]


@hookimpl
async def csgw_message_received(services: Gateway, message: dict[str, Any], profile: dict[str, Any] | None) -> None:
    await remember_contact(services, message)

"""Registers the e-mail channel type with csgw."""

from __future__ import annotations

from csgw.gateway.hookspecs import hookimpl
from csgw.plugins.email.channel import EmailChannel


@hookimpl
def csgw_channel_types() -> list[type]:
    return [EmailChannel]

"""Registers the e-mail channel type with csgw; the channel (SMTP, IMAP and mail parsing) is
imported only when a gateway builds its channels, not by every command that loads plugins."""

from __future__ import annotations

from csgw.gateway.hookspecs import hookimpl


@hookimpl
def csgw_channel_types() -> list[type]:
    from csgw.plugins.email.channel import EmailChannel

    return [EmailChannel]

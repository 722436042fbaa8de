"""Starting a channel whose platform cannot be reached yet: retry with capped, jittered back-off.

A channel that raises `ChannelNotReady` at start-up (IMAP server down, no network) must not stay
dead until a restart: it is started again in the background, each failure recorded in its
connection figures so health shows why it is not working.
"""

from __future__ import annotations

import asyncio
import random

import structlog

from csgw.gateway.channel import Channel, ChannelConfigError, ChannelNotReady

log = structlog.get_logger(__name__)

BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 60.0


def start_backoff(failures: int) -> float:
    """Seconds to wait after the `failures`-th failed start (half to all of a doubling ceiling)."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** min(failures - 1, 30))
    return ceiling * random.uniform(0.5, 1.0)


def not_ready(channel: Channel, error: Exception) -> None:
    channel.stats.failure(str(error), "not_ready")
    channel.stats.connected = False


async def keep_starting(channel: Channel) -> None:
    """Start `channel` until it starts; a configuration error found on the way ends the tries."""
    failures = 1
    while True:
        await asyncio.sleep(start_backoff(failures))
        try:
            await channel.start()
        except ChannelNotReady as error:
            failures += 1
            not_ready(channel, error)
            log.info("channel still not ready", channel=channel.plugin, account=channel.account,
                     error=str(error), tries=failures)
            continue
        except ChannelConfigError as error:
            channel.stats.failure(str(error), "config")
            log.error("channel configuration refused by the platform; fix the config and restart",
                      channel=channel.plugin, account=channel.account, error=str(error))
            return
        if channel.stats.connected is False:  # a channel without a persistent connection says nothing
            channel.stats.connected = None
        log.info("channel started", channel=channel.plugin, account=channel.account, tries=failures + 1)
        return

"""The reply window comes from the stored messages, so it survives a restart."""

from __future__ import annotations

import pytest

from csgw.gateway.channel import OutboundMessage, SendError
from csgw.gateway.models import Message
from csgw.testing import running_gateway
from tests.plugins.xiaohongshu.conftest import Pusher, channel_entry, dm, xiaohongshu_plugins

HOUR = 3600


def reply(user: str, message_id: int) -> OutboundMessage:
    return OutboundMessage(message_id, 1, "xiaohongshu", "brand", user, "您好，在的", "agent")


async def test_the_window_is_read_from_the_database_after_a_restart(tmp_path, database_url, platform, http):
    def gateway():
        return running_gateway(tmp_path, database_url=database_url, extra_plugins=xiaohongshu_plugins(),
                               channels=[channel_entry(platform)])

    async with gateway() as gw:
        pusher = Pusher(http, gw.url + "/webhooks/xiaohongshu/brand")
        await pusher.push(dm("你好", "recent", user="u-recent", age=HOUR))
        # an old message delivered late; a newer one arrived first, so order by id would mislead
        await pusher.push(dm("在吗", "newer", user="u-late", age=47 * HOUR))
        await pusher.push(dm("在吗", "older", user="u-late", age=50 * HOUR))
        await pusher.push(dm("你好", "stale", user="u-stale", age=49 * HOUR))
        assert await Message.filter(direction="in").count() == 4
    platform.sent.clear()

    async with gateway() as gw:
        channel = gw.services.channel("xiaohongshu", "brand")
        with pytest.raises(SendError) as info:
            await channel.send(reply("u-stale", 9001))
        assert (info.value.code, info.value.retryable) == ("reply_window", False)
        assert not [s for s in platform.sent if s["to_user_id"] == "u-stale"]
        await channel.send(reply("u-recent", 9002))
        await channel.send(reply("u-late", 9003))
        await channel.send(reply("u-never-wrote", 9004))  # nothing to judge by: the platform decides
        assert {s["request_id"] for s in platform.sent} >= {"9002", "9003", "9004"}

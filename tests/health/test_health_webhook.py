"""The builtin health_webhook plugin against a real local aiohttp receiver."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestServer

from csgw.app import MONITOR
from csgw.testing import running_gateway


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: asyncio.Queue[dict] = asyncio.Queue()
        app = web.Application()
        app.router.add_post("/alerts", self.alert)
        self.server = TestServer(app, host="127.0.0.1")

    async def alert(self, request: web.Request) -> web.Response:
        await self.posts.put(await request.json())
        return web.json_response({}, status=self.status)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/alerts"))


async def test_state_changes_are_posted(tmp_path):
    receiver = Receiver()
    await receiver.server.start_server()
    try:
        async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}],
                                   health={"notify_url": receiver.url}) as gw:
            monitor = gw.server.app[MONITOR]
            await monitor.report()
            stats = gw.fake("a").stats
            stats.set_connected(False)
            stats.failure("connection reset", "ECONNRESET")
            await monitor.report()
            posted = await asyncio.wait_for(receiver.posts.get(), 5)
            assert (posted["check"], posted["old"], posted["new"]) == ("channel:fake/a", "ok", "down")
            assert posted["event"] == "health.changed" and "故障" in posted["text"]
            assert posted["detail"]["last_error_code"] == "ECONNRESET" and posted["at"]
            stats.set_connected(True)
            stats.clock = lambda: 10**10  # the failure has left the window
            await monitor.report()
            back = await asyncio.wait_for(receiver.posts.get(), 5)
            assert (back["old"], back["new"]) == ("down", "ok")
            assert receiver.posts.empty()
    finally:
        await receiver.server.close()


async def test_a_failing_receiver_does_not_break_the_monitor(tmp_path):
    receiver = Receiver(status=500)
    await receiver.server.start_server()
    try:
        async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}],
                                   health={"notify_url": receiver.url}) as gw:
            monitor = gw.server.app[MONITOR]
            await monitor.report()
            gw.fake("a").stats.set_connected(False)
            report = await monitor.report()
            assert (await asyncio.wait_for(receiver.posts.get(), 5))["new"] == "down"
            assert report["status"] == "down"
    finally:
        await receiver.server.close()


async def test_an_unreachable_receiver_does_not_break_the_monitor(tmp_path):
    receiver = Receiver()
    await receiver.server.start_server()
    url = receiver.url
    await receiver.server.close()  # nothing listens there any more
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}],
                               health={"notify_url": url, "notify_timeout_seconds": 2}) as gw:
        monitor = gw.server.app[MONITOR]
        await monitor.report()
        gw.fake("a").stats.set_connected(False)
        assert (await monitor.report())["status"] == "down"

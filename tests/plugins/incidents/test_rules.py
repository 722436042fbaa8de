"""When an incident opens and closes, on the desk's clock moved by hand: distinct customers within
the window, per kind of thing asked about (an unanswered cluster, an escalation lane), and the
quiet close by the timer."""

from __future__ import annotations

import asyncio

from csgw.plugins.incidents.models import Incident, IncidentAsk, IncidentTopic
from tests.plugins.incidents.shop import BROADCAST, incident_shop

SHIPPING = "下单后多久发货"
LIVE_ROOM = ["直播间怎么进不去", "直播间为什么进不去了", "直播间进不去啊", "你们直播间进不去"]


async def test_below_the_threshold_outside_the_window_or_one_customer_many_times_is_no_incident(tmp_path):
    async with incident_shop(tmp_path) as shop:
        await shop.burst(SHIPPING, range(9))  # nine of ten
        for n in range(15):
            await shop.ask("c0", f"{SHIPPING}{'？' * n}")  # one of them, many times
        await shop.settle()
        shop.clock.advance(minutes=10, seconds=1)  # the first nine fall out of the window
        await shop.burst(SHIPPING, range(9), prefix="later")
        assert await Incident.all().count() == 0 and shop.incident_events == []
        await shop.burst(SHIPPING, range(1), prefix="tenth")  # ten within ten minutes
        [incident] = await Incident.all()
        assert incident.customers == 10 and [e["type"] for e in shop.incident_events] == ["incident.opened"]
        uncounted = await IncidentAsk.filter(incident_id__isnull=True).count()
        assert uncounted == 9 + 15  # the first nine and the repeats, outside the incident's window

        shop.clock.advance(minutes=10, seconds=1)
        await shop.desk.close_quiet()  # the timer forgets what no window reaches; the incident keeps its own
        assert await IncidentAsk.filter(incident_id__isnull=True).count() == 0
        assert await IncidentAsk.filter(incident_id=incident.id).count() == 10
        assert [t.incident_id for t in await IncidentTopic.all()] == [incident.id]


async def test_an_unanswered_cluster_and_a_lane_each_raise_one_with_their_own_threshold(tmp_path):
    async with incident_shop(tmp_path, incidents={"lane": {"min_customers": 4}, "entry": {"enabled": False}}) as shop:
        await asyncio.gather(*(shop.ask(f"live{n}", LIVE_ROOM[n % 4]) for n in range(10)))
        await shop.burst("我要投诉，东西是坏的", range(4), prefix="angry")
        await shop.burst(SHIPPING, range(12), prefix="ship")  # entries are not watched here
        incidents = {i.kind: i for i in await Incident.all()}
        assert set(incidents) == {"unanswered", "lane"}
        live, lane = incidents["unanswered"], incidents["lane"]
        assert (live.customers, live.key, lane.customers, lane.key) == (10, "直播间怎么进不去", 4, "complaint")
        assert sorted(live.examples) == sorted(LIVE_ROOM) and live.title in LIVE_ROOM

        await shop.supervisor.call("POST", f"/incidents/{live.id}/broadcast", {"text": BROADCAST}, expect=200)
        await shop.supervisor.call("POST", f"/incidents/{lane.id}/broadcast", {"text": "已收到投诉，主管正在处理。"},
                                   expect=200)
        variant = await shop.ask("live-next", "直播间咋进不去了")
        unrelated = await shop.ask("stranger", "你们卖不卖自行车")
        angry = await shop.ask("angry-next", "投诉！坏的")
        await shop.settle()
        assert (await shop.bot_reply(variant)).text == BROADCAST
        assert (await shop.bot_reply(unrelated)).text != BROADCAST
        reply = await shop.bot_reply(angry)
        assert reply.text == "已收到投诉，主管正在处理。" and reply.payload["source"] == "incident"
        assert not any(BROADCAST in shop.sent_to(f"live{n}") for n in range(10))  # not asked to tell them
        await shop.wait_sent(lambda: any("客服" in text for text in shop.sent_to("angry-next")))  # still handed over


async def test_a_quiet_incident_closes_on_the_timer_and_its_broadcast_stops(tmp_path, database_url):
    async with incident_shop(tmp_path, database_url=database_url,
                             incidents={"close_after_quiet_minutes": 30, "check_seconds": 0.05}) as shop:
        await shop.burst(SHIPPING, range(10))
        [incident] = await Incident.all()
        await shop.supervisor.call("POST", f"/incidents/{incident.id}/broadcast", {"text": BROADCAST}, expect=200)
        shop.clock.advance(minutes=29)
        await shop.burst(SHIPPING, range(1), prefix="late")  # a new asker: quiet from here
        shop.clock.advance(minutes=29)
        await shop.desk.close_quiet()  # what the timer runs: not quiet long enough
        assert (await Incident.get(id=incident.id)).closed_at is None
        closed = asyncio.Event()
        shop.gw.services.events.observe(lambda e: closed.set() if e["type"] == "incident.closed" else None)
        shop.clock.advance(minutes=1, seconds=1)
        await asyncio.wait_for(closed.wait(), 10)  # the running timer, on the moved clock
        quiet = await Incident.get(id=incident.id)
        assert (quiet.close_reason, quiet.closed_by, quiet.customers) == ("quiet", None, 11)
        after = await shop.ask("after", SHIPPING)
        await shop.settle()
        assert (await shop.bot_reply(after)).text != BROADCAST
        assert [e["type"] for e in shop.incident_events].count("incident.closed") == 1

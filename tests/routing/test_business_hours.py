"""Business hours through the real gateway on a fake clock (`use_clock`): the after-hours
hand-over says when people are back (today, tomorrow, after a holiday; Chinese and English) and
offers the widget's leave-a-message form; a conversation waits for the next shift — no idle close,
no queue notices, nobody assigned at night, not even an agent whose own group is off shift — and
is first in line when the shift opens; the waiting limits and the report count business time
only, and agree. The timers run by hand: nothing here waits for real time to pass.

One gateway per database for the module; the clock only moves forward (the outbox's due times
follow it), each test in a week of its own (weekdays 09:00-12:00 and 13:30-18:00, Shanghai)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import pytest_asyncio

from csgw.gateway.channel import InboundMessage
from csgw.gateway.clock import use_clock
from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.models import Agent, Conversation, Customer, CustomerIdentity, Message
from csgw.gateway.reports import report_range, service_report
from csgw.gateway.testing import FakeClock
from csgw.plugins.assignment.timers import AssignmentTimer
from csgw.plugins.escalation.limits import WaitingLimits
from csgw.testing import RunningGateway, running_gateway
from tests.conftest import DATABASES, POSTGRES_URL, reset_postgres
from tests.gateway.helpers import AgentClient, Visitor, add_agent
from tests.routing.conftest import SLOW_TIMERS, ScriptedRepliesPlugin, Shop

pytestmark = pytest.mark.asyncio(loop_scope="module")

SHANGHAI = ZoneInfo("Asia/Shanghai")
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
HOURS = {"timezone": "Asia/Shanghai", "weekly": dict.fromkeys(WORKDAYS, "09:00-12:00,13:30-18:00"),
         "closed_dates": ["2026-10-01", "2026-10-02"]}
CHANNELS = [{"plugin": "fake", "account": "shop"}, {"plugin": "fake", "account": "intl", "language": "en"},
            {"plugin": "webchat", "account": "site"}]
# agents only in 夜班 keep its hours: evenings, every day
GROUPS = {"夜班": {"hours": {"weekly": dict.fromkeys((*WORKDAYS, "sat", "sun"), "18:00-24:00")}}}
IDLE = 600
LIMITS = {"first_response_seconds": {0: 600.0}, "next_response_seconds": {0: 900.0}}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@dataclass
class Desk:
    shop: Shop
    clock: FakeClock
    session: aiohttp.ClientSession

    @property
    def gw(self) -> RunningGateway:
        return self.shop.gw

    def at(self, text: str) -> None:
        """Move the clock to a shop time, never back."""
        moved = local(text)
        assert moved >= self.clock.at, "the clock only moves forward in this module"
        self.clock.at = moved

    async def tick(self, text: str) -> None:
        """At a shop time: one run of the assignment timer and of the waiting limits."""
        self.at(text)
        services = self.gw.services
        await self.timer.tick()
        await WaitingLimits(services.conversations, services.settings.escalation, None,
                            DeskHours(services.settings)).tick()

    async def start_week(self) -> None:
        """Nothing left over from an earlier test: no open conversation, nobody online."""
        await Conversation.filter(state__not="closed").update(state="closed", closed_at=self.clock.at)
        await Agent.all().update(status="offline")
        services = self.gw.services
        self.timer = AssignmentTimer(services.conversations, services.settings.assignment,
                                     hours=DeskHours(services.settings))

    def told(self, user: str) -> list[str]:
        return self.shop.texts_to(user)


async def system_texts(conversation: Conversation) -> list[str]:
    """What the gateway wrote to the customer of `conversation` (stored, delivered or not yet)."""
    return [m.text for m in await Message.filter(conversation_id=conversation.id, sender="system").order_by("id")]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def desk(request, tmp_path_factory) -> AsyncIterator[Desk]:
    url = None
    if request.param == "postgres":
        await reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    clock = FakeClock(local("2026-09-28 08:00"))
    with use_clock(clock):
        async with running_gateway(
                tmp_path_factory.mktemp("hours"), database_url=url, channels=CHANNELS, disabled=["kb"],
                extra_plugins=[("scripted_replies", ScriptedRepliesPlugin())], hours=HOURS,
                assignment={**SLOW_TIMERS, "idle_close_seconds": IDLE, "queue_update_seconds": 1, "groups": GROUPS,
                            "away_after_seconds": 0},  # agents stay online across the nights
                escalation={"tick_seconds": 300, **LIMITS}) as gw, aiohttp.ClientSession() as session:
            yield Desk(Shop(gw, session), clock, session)


async def test_after_hours_the_hand_over_says_when_people_are_back(desk):
    await desk.start_week()
    desk.at("2026-09-29 07:30")  # a Tuesday, before opening
    early = await desk.shop.say("early", "转人工")
    await desk.shop.wait_text("early", "上班")
    assert early.state == "queued" and early.agent_id is None
    assert desk.told("early") == [
        "现在是非工作时间，人工客服今天 09:00 上班。您可以先留言（姓名、手机号或微信号、问题），我们上班后第一时间回复您。"]
    note = await Message.get(conversation_id=early.id, sender="system")
    assert note.payload["desk_closed"] == {"opens_at": "2026-09-29T01:00:00+00:00"}

    desk.at("2026-09-29 12:10")  # the lunch break
    await desk.shop.say("lunch", "转人工")
    await desk.shop.wait_text("lunch", "今天 13:30 上班")

    desk.at("2026-09-29 19:00")
    await desk.shop.say("evening", "转人工")
    await desk.shop.wait_text("evening", "人工客服 9月30日（周三） 09:00 上班")
    evening = await desk.shop.say("evening", "还在吗")  # waits with the conversation: not told again
    assert len(await system_texts(evening)) == 1

    desk.at("2026-09-30 18:30")  # Wednesday evening: the holiday, then the weekend
    await desk.shop.say("holiday", "转人工")
    await desk.shop.wait_text("holiday", "人工客服 10月5日（周一） 09:00 上班")
    services = desk.gw.services  # the shop's English account
    accepted = await services.accept(InboundMessage("fake", "intl", "tourist", "talk to a person please", "intl-1"))
    await services.pipeline.drain()
    await desk.gw.fake("intl").wait_sent(1)
    assert [m.text for m in desk.gw.fake("intl").sent if m.user_id == "tourist"] == [
        "We are closed right now; our team is back on Mon, Oct 5 at 09:00. Leave a message (your name, "
        "phone or WeChat ID, and your question) and we will answer as soon as we are back."]
    assert (await Conversation.get(id=accepted.conversation_id)).state == "queued"


async def test_the_conversation_waits_for_the_next_shift(desk):
    await desk.start_week()
    desk.at("2026-10-05 17:50")  # Monday
    _, token = await add_agent("ann", status="online", max_concurrent=5)
    await add_agent("owl", skills=["夜班"], status="online", max_concurrent=5)
    day = await desk.shop.say("day", "转人工")
    assert day.state == "assigned"
    desk.at("2026-10-05 17:55")
    await AgentClient(desk.session, desk.gw.url, token).call(
        "POST", f"/conversations/{day.id}/messages", {"text": "好的，我看一下"}, expect=201)

    desk.at("2026-10-05 19:00")  # both agents still online, 夜班 is open: nobody gets it at night
    night = await desk.shop.say("night", "转人工")
    await desk.shop.wait_text("night", "上班")
    assert night.state == "queued" and night.agent_id is None

    await desk.tick("2026-10-06 08:59")  # 15 hours on: far past the idle limit and queue updates
    assert (await Conversation.get(id=night.id)).state == "queued"
    assert (await Conversation.get(id=day.id)).state == "assigned"  # 5 open minutes of silence
    assert len(await system_texts(night)) == 1  # no queue position at night

    await desk.tick("2026-10-06 09:04")  # the shift opens: the night's customer is served
    night = await Conversation.get(id=night.id)
    assert night.state == "assigned" and night.agent_id == (await Agent.get(name="ann")).id
    assert (await Conversation.get(id=day.id)).state == "assigned"  # 9 open minutes

    await desk.tick("2026-10-06 09:06")  # 11 open minutes since the agent's last word
    assert (await Conversation.get(id=day.id)).state == "closed"
    owl = await Agent.get(name="owl")
    assert not await Conversation.filter(agent_id=owl.id).exists()  # 夜班 is off shift by day


async def test_the_queue_is_served_oldest_first_when_the_shift_opens(desk):
    await desk.start_week()
    desk.at("2026-10-12 18:30")
    await add_agent("bob", status="online", max_concurrent=2)
    await add_agent("owl2", skills=["夜班"], status="online", max_concurrent=5)  # off shift by day
    waiting = []
    for user, text in (("first", "2026-10-12 19:00"), ("second", "2026-10-12 22:00"), ("third", "2026-10-13 02:00")):
        desk.at(text)
        waiting.append(await desk.shop.say(user, "转人工"))
    await desk.tick("2026-10-13 08:00")
    assert [c.state for c in await Conversation.filter(id__in=[c.id for c in waiting]).order_by("id")] == ["queued"] * 3

    await desk.tick("2026-10-13 09:00")
    bob = await Agent.get(name="bob")
    states = {c.id: (c.state, c.agent_id) for c in await Conversation.filter(id__in=[c.id for c in waiting])}
    assert [states[c.id] for c in waiting] == [("assigned", bob.id), ("assigned", bob.id), ("queued", None)]

    desk.at("2026-10-13 09:01")
    fresh = await desk.shop.say("fresh", "转人工")  # comes after the night's customers
    assert fresh.state == "queued"
    await desk.gw.services.conversations.close(await Conversation.get(id=waiting[0].id))
    assert (await Conversation.get(id=waiting[2].id)).state == "assigned"
    assert (await Conversation.get(id=fresh.id)).state == "queued"
    await desk.tick("2026-10-13 09:02")  # queue notices run again by day
    assert (await system_texts(fresh))[-1].startswith("排队更新：您前面还有 0 位")


async def test_sla_counts_business_time_and_the_report_agrees(desk):
    await desk.start_week()
    desk.at("2026-10-19 17:55")  # Monday, five minutes before closing
    late = await desk.shop.say("late", "转人工")
    desk.at("2026-10-19 17:56")
    answered = await desk.shop.say("in-time", "转人工")
    _, token = await add_agent("cara", status="away")
    settings = desk.gw.services.settings

    async def missed() -> tuple[set[int], int]:
        escalated = {c.id for c in await Conversation.filter(id__in=[late.id, answered.id])
                     if (c.flags or {}).get("sla_missed")}
        report = await service_report(report_range("2026-10-19", None, settings), trend=False)
        return escalated, report["total"]["sla_missed"]

    await desk.tick("2026-10-19 23:00")  # 5 hours in wall time, 5 minutes of business time
    assert await missed() == (set(), 0)
    await desk.tick("2026-10-20 09:03")
    agent = AgentClient(desk.session, desk.gw.url, token)
    await agent.call("POST", f"/conversations/{answered.id}/take", expect=200)
    await agent.call("POST", f"/conversations/{answered.id}/messages", {"text": "您好"}, expect=201)  # 7 minutes
    await desk.tick("2026-10-20 09:04")  # late: 9 minutes
    assert await missed() == (set(), 0)
    await desk.tick("2026-10-20 09:06")  # late: 11 minutes
    assert await missed() == ({late.id}, 1)

    # The report reads the waits themselves, not only the escalations' flags; in wall time both missed.
    await Conversation.filter(id=late.id).update(flags={})
    span = report_range("2026-10-19", None, settings)
    assert (await service_report(span, trend=False))["total"]["sla_missed"] == 1
    wall = report_range("2026-10-19", None, settings.model_copy(update={"hours": None}))
    assert (await service_report(wall, trend=False))["total"]["sla_missed"] == 2


async def test_the_widget_offers_a_form_and_keeps_the_message(desk):
    await desk.start_week()
    desk.at("2026-10-26 20:00")  # Monday night
    visitor = await Visitor(desk.session, desk.gw.url, "visitor-after-hours", site="site").connect()
    await visitor.say("c1", "转人工")
    note = await visitor.receive_until(lambda f: f["type"] == "message" and f["from"] == "system")
    assert "10月27日（周二） 09:00" in note["text"]
    offer = await visitor.receive_until(lambda f: f["type"] != "typing")
    assert offer == {"type": "desk_closed", "opens_at": "2026-10-27T01:00:00+00:00"}

    form = {"type": "leave_message", "client_id": "form-1", "name": "王女士", "contact": "+86 138-0000-0000",
            "text": "鞋码想换成 38，麻烦上班后联系我"}
    for bad, code in (({"text": "  "}, "empty_text"), ({"text": "长" * 4001}, "text_too_long"),
                      ({"contact": ""}, "empty_contact"), ({"contact": "<script>"}, "bad_contact"),
                      ({"name": 42}, "bad_name"), ({"name": "王\u202e女士"}, "bad_name"),
                      ({"name": "名" * 65}, "name_too_long"), ({"client_id": "a b"}, "bad_client_id")):
        await visitor.ws.send_json({**form, **bad})
        refused = await visitor.receive()
        assert (refused["type"], refused["code"]) == ("error", code), bad
    await visitor.ws.send_json(form)
    ack = await visitor.receive_until(lambda f: f["type"] == "ack")
    assert await visitor.receive() == {"type": "message_left", "client_id": "form-1"}
    await visitor.ws.send_json(form)  # sent twice (a reconnect): stored once
    assert (await visitor.receive_until(lambda f: f["type"] == "ack"))["id"] == ack["id"]
    await desk.gw.services.pipeline.drain()

    stored = await Message.get(id=ack["id"])
    conversation = await Conversation.get(id=stored.conversation_id)
    assert (stored.direction, stored.sender, stored.text) == ("in", "customer", "鞋码想换成 38，麻烦上班后联系我")
    assert stored.payload == {"left_message": {"name": "王女士", "contact": "+86 138-0000-0000"}}
    assert conversation.state == "queued" and conversation.id == ack["conversation_id"]
    assert (await Customer.get(id=conversation.customer_id)).name == "王女士"
    identity = await CustomerIdentity.get(customer_id=conversation.customer_id, channel="webchat")
    assert identity.profile["contact"] == "+86 138-0000-0000"
    _, token = await add_agent("dora", status="away")
    shown = await AgentClient(desk.session, desk.gw.url, token).call(
        "GET", f"/conversations/{conversation.id}/messages", expect=200)
    items = shown["items"] if isinstance(shown, dict) else shown
    assert any(m["text"] == "鞋码想换成 38，麻烦上班后联系我" for m in items)
    await visitor.close()


async def test_a_reloaded_widget_offers_the_form_again_until_a_message_is_left_or_the_desk_opens(desk):
    await desk.start_week()
    desk.at("2026-11-02 20:00")  # Monday night

    async def reloaded(name: str) -> tuple[Visitor, list[dict]]:
        """The page loaded again: the widget connects, replays the conversation, then gets what follows."""
        visitor = await Visitor(desk.session, desk.gw.url, name, site="site").connect()
        await visitor.ws.send_json({"type": "resume", "after": 0})
        await visitor.ws.send_json({"type": "end-of-replay"})  # refused: marks the end of the replay
        frames = []
        while (frame := await visitor.receive())["type"] != "error":
            frames.append(frame)
        return visitor, frames

    first = await Visitor(desk.session, desk.gw.url, "visitor-reloads", site="site").connect()
    await first.say("c1", "转人工")
    await first.receive_until(lambda f: f["type"] == "desk_closed")
    await first.close()
    offer = {"type": "desk_closed", "opens_at": "2026-11-03T01:00:00+00:00"}
    visitor, frames = await reloaded("visitor-reloads")
    assert frames[-1] == offer and frames[-2]["from"] == "system"  # after the note, as when it came
    await visitor.close()

    desk.at("2026-11-03 09:30")  # the desk has opened: the note's form is out of date
    visitor, frames = await reloaded("visitor-reloads")
    assert offer not in frames and frames[-1]["from"] == "system"
    await visitor.close()

    other = await Visitor(desk.session, desk.gw.url, "visitor-leaves", site="site").connect()
    desk.at("2026-11-03 20:00")
    await other.say("c1", "转人工")
    await other.receive_until(lambda f: f["type"] == "desk_closed")
    await other.ws.send_json({"type": "leave_message", "client_id": "form-1", "contact": "+86 138-0000-0001",
                              "text": "上班后请联系我"})
    await other.receive_until(lambda f: f["type"] == "message_left")
    await other.close()
    visitor, frames = await reloaded("visitor-leaves")
    assert all(frame["type"] != "desk_closed" for frame in frames) and frames[-1]["text"] == "上班后请联系我"
    await visitor.close()

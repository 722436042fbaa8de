"""The report's SLA misses and the waiting-limit escalations agree: one story of eight
conversations is played on a clock the test moves, the escalation timer ticking along, and the
report then counts as missed exactly the conversations the timer escalated — also when it reads
the waits alone (the escalations' flags cleared)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from csgw.gateway import reports
from csgw.gateway.models import Conversation, Message
from csgw.gateway.reports import ReportRange, service_report
from csgw.gateway.sla import limit_for, limit_sql
from csgw.gateway.storage.db import close_database, open_database
from csgw.gateway.storage.dialect import Sql
from csgw.plugins.escalation import limits
from csgw.plugins.escalation.limits import WaitingLimits
from csgw.testing import running_gateway

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
S = timedelta(seconds=1)
LIMITS = {"first_response_seconds": {0: 600.0, 5: 300.0, 10: 120.0},
          "next_response_seconds": {0: 900.0, 5: 600.0, 10: 300.0}}

# name: (priority, [(seconds after T, what happens)], missed); every one is handed over at T.
STORY: dict[str, tuple[int, list[tuple[int, str]], bool]] = {
    "answered-in-time": (0, [(400, "agent")], False),  # past the old report-only 300 s, within 600 s
    "answered-late": (0, [(700, "agent")], True),
    "complaint-late": (10, [(200, "agent")], True),  # 120 s at priority 10
    "urgent-never-answered": (5, [], True),  # still queued at the end: 1200 s > 300 s
    "next-reply-late": (0, [(60, "agent"), (100, "customer"), (1100, "agent")], True),  # 1000 s > 900 s
    "customer-wrote-again": (0, [(60, "agent"), (100, "customer"), (800, "customer"), (1000, "agent")], False),
    "closed-while-waiting": (0, [(300, "close")], False),
    "next-reply-in-time": (5, [(100, "agent"), (200, "customer"), (700, "agent")], False),  # 500 s < 600 s
}
END = 1200
TICK = 10


async def open_conversation(customer_id: int, name: str, priority: int) -> Conversation:
    conversation = await Conversation.create(
        customer_id=customer_id, channel="fake", account="shop", state="queued", group=name, priority=priority,
        opened_at=T - 60 * S, waiting_since=T, last_message_at=T)
    await message(conversation, "customer", T)
    return conversation


async def message(conversation: Conversation, sender: str, at: datetime) -> None:
    await Message.create(conversation_id=conversation.id, channel="fake", account="shop",
                         direction="in" if sender == "customer" else "out", sender=sender, text=sender,
                         created_at=at, external_id=f"{conversation.id}-{at.timestamp()}" if sender == "customer" else None)


async def happen(conversation: Conversation, what: str, at: datetime) -> None:
    fresh = await Conversation.get(id=conversation.id)
    if what == "close":
        await Conversation.filter(id=conversation.id).update(state="closed", closed_at=at)
        return
    await message(conversation, what, at)
    if what == "agent" and fresh.first_response_at is None:
        await Conversation.filter(id=conversation.id).update(state="assigned", assigned_at=at, first_response_at=at)


async def missed_by_group() -> dict[str, int]:
    report = await service_report(ReportRange(T - timedelta(hours=1), T + timedelta(days=1),
                                              first_response_limits=LIMITS["first_response_seconds"],
                                              next_response_limits=LIMITS["next_response_seconds"]))
    return {row["group"]: row["sla_missed"] for row in report["groups"]}


async def test_the_report_counts_as_missed_what_the_waiting_limits_escalated(tmp_path, database_url, monkeypatch):
    clock = [T]
    monkeypatch.setattr(limits, "now", lambda: clock[0])
    monkeypatch.setattr(reports, "now", lambda: clock[0])
    # The escalation plugin's own timer is off: the test ticks its waiting limits on its clock.
    async with running_gateway(tmp_path, database_url=database_url, disabled=["basic_escalation"],
                               escalation=LIMITS) as gw:
        conversations = {name: await open_conversation(number, name, priority)
                         for number, (name, (priority, _, _)) in enumerate(STORY.items(), start=1)}
        events = sorted((seconds, name, what) for name, (_, story, _) in STORY.items() for seconds, what in story)
        timer = WaitingLimits(gw.services.conversations, gw.services.settings.escalation, None)
        for seconds in range(0, END + 1, TICK):
            clock[0] = T + seconds * S
            while events and events[0][0] <= seconds:
                _, name, what = events.pop(0)
                await happen(conversations[name], what, clock[0])
            await timer.tick()

        expected = {name: missed for name, (_, _, missed) in STORY.items()}
        escalated = {name: (await Conversation.get(id=c.id)).flags.get("sla_missed") is True
                     for name, c in conversations.items()}
        assert escalated == expected
        assert await missed_by_group() == {name: int(missed) for name, missed in expected.items()}

        # The same figures from the waits alone, as for a store the timer never saw.
        await Conversation.all().update(flags={})
        assert await missed_by_group() == {name: int(missed) for name, missed in expected.items()}


def test_the_limit_sql_matches_limit_for():
    table = {0: 600.0, 5: 300.0, 10: 120.0}
    cases = {priority: limit_for(table, priority) for priority in (-5, 0, 4, 5, 9, 10, 30)}
    assert cases == {-5: 600.0, 0: 600.0, 4: 600.0, 5: 300.0, 9: 300.0, 10: 120.0, 30: 120.0}
    assert limit_sql(table, "p") == "(CASE WHEN p >= 10 THEN 120.0 WHEN p >= 5 THEN 300.0 ELSE 600.0 END)"
    assert limit_sql({3: 60.0}, "p") == "(60.0)" and limit_sql({}, "p") == "NULL"


async def test_the_limit_sql_computes_limit_for_in_the_database(database_url):
    table = {5: 300.0, 0: 600.0, 10: 120.0}
    await open_database(database_url)
    try:
        for priority in (-5, 0, 4, 5, 9, 10, 30):
            [row] = await Sql().rows(f"SELECT {limit_sql(table, ':p')} AS limit_seconds", p=priority)
            assert float(row["limit_seconds"]) == limit_for(table, priority), priority
    finally:
        await close_database()

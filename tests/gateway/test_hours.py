"""Business hours as a pure schedule: open or not, the next opening, open seconds between two
instants — midnight, closed dates, several ranges a day, a desk open round the clock, a week
without hours, daylight saving — and which hours a conversation keeps (group, channel, `[hours]`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from csgw.config.hours import HoursSettings
from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.hours import Schedule
from csgw.gateway.testing import make_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = {day: "09:00-12:00,13:30-18:00" for day in ("mon", "tue", "wed", "thu", "fri")}


def schedule(weekly: dict[str, str], closed: list[str] | None = None, zone: str = "Asia/Shanghai") -> Schedule:
    return Schedule.from_settings(HoursSettings.model_validate(
        {"timezone": zone, "weekly": weekly, "closed_dates": closed or []}))


def local(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    """A shop time, "2026-09-30 08:00" (2026-09-30 is a Wednesday)."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


SHOP = schedule(WEEKDAYS, ["2026-10-01", "2026-10-02"])


@pytest.mark.parametrize(("at", "is_open"), [
    ("2026-09-30 08:59:59", False), ("2026-09-30 09:00", True), ("2026-09-30 11:59:59", True),
    ("2026-09-30 12:00", False), ("2026-09-30 13:30", True), ("2026-09-30 18:00", False),
    ("2026-10-01 10:00", False),  # a closed date
    ("2026-10-03 10:00", False),  # Saturday: no hours
    ("2026-10-05 10:00", True),
])
def test_open_at(at, is_open):
    assert SHOP.is_open(local(at)) is is_open


@pytest.mark.parametrize(("at", "opens"), [
    ("2026-09-30 08:00", "2026-09-30 09:00"),  # later today
    ("2026-09-30 12:30", "2026-09-30 13:30"),  # after the lunch break
    ("2026-09-30 10:00", "2026-09-30 10:00"),  # open now
    ("2026-09-29 18:00", "2026-09-30 09:00"),  # the closing instant itself is closed: tomorrow
    ("2026-09-29 23:59:59", "2026-09-30 09:00"),
    ("2026-09-30 00:00", "2026-09-30 09:00"),  # midnight
    ("2026-09-30 19:00", "2026-10-05 09:00"),  # two closed dates, then the weekend
])
def test_next_opening(at, opens):
    assert SHOP.next_opening(local(at)) == local(opens)


def test_open_seconds_between_two_instants():
    seconds = SHOP.business_seconds_between
    assert seconds(local("2026-09-30 08:00"), local("2026-09-30 10:00")) == 3600
    assert seconds(local("2026-09-30 11:00"), local("2026-09-30 14:00")) == 1.5 * 3600  # 11-12, 13:30-14
    assert seconds(local("2026-09-29 17:00"), local("2026-09-30 10:00")) == 2 * 3600  # overnight is closed
    assert seconds(local("2026-09-30 17:00"), local("2026-10-05 09:30")) == 1.5 * 3600  # over the holiday
    assert seconds(local("2026-09-30 10:00"), local("2026-09-30 09:00")) == 0
    assert seconds(local("2026-09-30 10:00"), local("2026-09-30 10:00")) == 0
    # a whole working week: five days of 7.5 hours
    assert seconds(local("2026-09-07 00:00"), local("2026-09-14 00:00")) == 5 * 7.5 * 3600


def test_ranges_that_meet_at_midnight_are_one_stretch():
    nights = schedule({"fri": "20:00-24:00", "sat": "00:00-24:00", "sun": "00:00-02:00"})
    fri = local("2026-10-02 20:00")
    assert nights.is_open(local("2026-10-03 00:00")) and nights.is_open(local("2026-10-04 01:59"))
    assert nights.next_opening(local("2026-10-03 00:00")) == local("2026-10-03 00:00")
    assert list(nights.stretches(fri - timedelta(hours=1), fri + timedelta(days=3))) == [
        (fri.astimezone(UTC), local("2026-10-04 02:00").astimezone(UTC))]
    assert nights.business_seconds_between(fri, fri + timedelta(days=3)) == 30 * 3600
    assert nights.next_opening(local("2026-10-04 02:00")) == local("2026-10-09 20:00")


def test_round_the_clock_is_always_open():
    always = schedule(dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00"))
    start = local("2026-09-30 13:17")
    assert always.is_open(start) and always.next_opening(start) == start
    assert always.business_seconds_between(start, start + timedelta(days=9)) == 9 * 86400


def test_a_week_without_hours_never_opens():
    never = schedule({})
    at = local("2026-09-30 10:00")
    assert never.never_opens and not never.is_open(at)
    assert never.next_opening(at) is None
    assert never.business_seconds_between(at, at + timedelta(days=400)) == 0


def test_closed_dates_on_every_open_day_for_weeks_still_end():
    mondays = [(datetime(2026, 10, 5) + timedelta(weeks=n)).date().isoformat() for n in range(10)]
    only_mondays = schedule({"mon": "09:00-10:00"}, mondays)
    assert only_mondays.next_opening(local("2026-10-01 12:00")) == local("2026-12-14 09:00")
    closed_for_good = schedule({"mon": "09:00-10:00"}, mondays[:1])
    assert closed_for_good.next_opening(local("2026-10-05 09:30")) == local("2026-10-12 09:00")


def test_daylight_saving_days_count_their_real_length():
    berlin = ZoneInfo("Europe/Berlin")
    sundays = schedule({"sun": "00:00-24:00"}, zone="Europe/Berlin")
    spring, autumn = local("2026-03-29 00:00", berlin), local("2026-10-25 00:00", berlin)
    assert sundays.business_seconds_between(spring, spring + timedelta(days=1)) == 23 * 3600
    assert sundays.business_seconds_between(autumn, autumn + timedelta(days=1)) == 25 * 3600
    early = schedule({"sun": "01:00-04:00"}, zone="Europe/Berlin")  # 02:00-03:00 does not exist that day
    assert early.business_seconds_between(spring, spring + timedelta(days=1)) == 2 * 3600


def test_the_zone_defaults_to_the_one_given():
    hours = HoursSettings.model_validate({"weekly": {"mon": "09:00-10:00"}})
    assert Schedule.from_settings(hours, "Europe/London").zone == ZoneInfo("Europe/London")


def test_a_group_beats_its_channel_and_a_channel_beats_the_shop(tmp_path):
    settings = make_settings(
        tmp_path, hours={"timezone": "Asia/Shanghai", "weekly": WEEKDAYS},
        channels=[{"plugin": "fake", "account": "night", "hours": {"weekly": {"mon": "20:00-24:00"}}},
                  {"plugin": "fake", "account": "shop"}],
        assignment={"groups": {"vip": {"hours": {"weekly": {"sat": "10:00-16:00"}}}, "plain": {}}})
    desk = DeskHours(settings)
    monday_evening = local("2026-10-05 21:00")
    assert desk.configured
    assert not desk.closed(None, "fake", "night", monday_evening)  # the channel's own hours
    assert desk.closed(None, "fake", "shop", monday_evening)  # [hours]
    assert not desk.closed("plain", "fake", "night", monday_evening)  # a group without hours keeps the channel's
    assert desk.schedule_for("vip", "fake", "night").zone == SHANGHAI  # the zone of [hours]
    assert not desk.closed("vip", "fake", "shop", local("2026-10-03 11:00"))
    assert desk.agent_off_shift(["vip"], monday_evening) and not desk.agent_off_shift(["vip", "plain"], monday_evening)
    assert not desk.agent_off_shift([], monday_evening)


def test_no_hours_at_all_is_always_open(tmp_path):
    desk = DeskHours(make_settings(tmp_path))
    assert not desk.configured and desk.schedule_for("any", "fake", "shop") is None
    assert not desk.closed(None, "fake", "shop", datetime(2026, 10, 1, 3, tzinfo=UTC))

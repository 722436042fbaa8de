"""What a customer who asks for a person after hours hears: when people are back (HH:MM in the
shop's zone, with the date when it is not today) and that they may leave a message. The note
carries `desk_closed` for channels that can show a form for it (the site widget)."""

from __future__ import annotations

from datetime import date, datetime

from csgw.gateway.hours import Schedule
from csgw.gateway.messages import DraftReply
from csgw.gateway.texts import Texts

OFF_HOURS = "off hours"  # the reason of the decision that keeps a conversation for the next shift
DESK_CLOSED = "desk_closed"  # the note's payload: {"opens_at": ISO time, or None}

# what `hours.date` fills {weekday} and {month} with, per language
WEEKDAYS = {"zh-Hans": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
            "zh-Hant": ("週一", "週二", "週三", "週四", "週五", "週六", "週日"),
            "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
MONTHS = {"zh-Hans": tuple(f"{n}月" for n in range(1, 13)), "zh-Hant": tuple(f"{n}月" for n in range(1, 13)),
          "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")}


def shop_date(texts: Texts, day: date, language: str) -> str:
    """A day as the customer reads it ("10月8日（周四）", "Thu, Oct 8"), through `hours.date`."""
    weekdays, months = WEEKDAYS.get(language, WEEKDAYS["zh-Hans"]), MONTHS.get(language, MONTHS["zh-Hans"])
    return texts.render("hours.date", language, month=months[day.month - 1], day=day.day,
                        weekday=weekdays[day.weekday()])


def closed_note(texts: Texts, schedule: Schedule, at: datetime, language: str) -> DraftReply:
    """The system message for a hand-over at `at` while the desk is closed."""
    opens = schedule.next_opening(at)
    payload = {DESK_CLOSED: {"opens_at": opens.isoformat() if opens else None}}
    if opens is None:
        return DraftReply(texts.render("handover.closed", language), "system", payload)
    local = opens.astimezone(schedule.zone)
    time = local.strftime("%H:%M")
    if local.date() == at.astimezone(schedule.zone).date():
        return DraftReply(texts.render("handover.closed_today", language, time=time), "system", payload)
    text = texts.render("handover.closed_until", language, date=shop_date(texts, local.date(), language), time=time)
    return DraftReply(text, "system", payload)

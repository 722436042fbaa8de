"""Business hours as `csgw.toml` writes them: `[hours]`, and `hours = { … }` in a `[[channels]]`
entry or an `[assignment.groups.NAME]` table. Read here; what they mean over time is
`gateway/hours.py`."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
MINUTES_PER_DAY = 24 * 60
_TIME = re.compile(r"^(\d{1,2}):(\d{2})\Z")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")

Ranges = tuple[tuple[int, int], ...]  # (start, end) in minutes after midnight, end exclusive, ascending


def known_zone(name: str) -> str:
    """`name` if it is an IANA time zone; else a ValueError saying what is expected."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as \"Asia/Shanghai\")") from None
    return name


def _minutes(text: str) -> int:
    match = _TIME.match(text.strip())
    minutes = int(match.group(1)) * 60 + int(match.group(2)) if match else -1
    if not match or int(match.group(2)) > 59 or not 0 <= minutes <= MINUTES_PER_DAY:
        raise ValueError(f"{text.strip()!r} is not a time of day (HH:MM, from 00:00 to 24:00)")
    return minutes


def parse_ranges(text: str) -> Ranges:
    """"09:00-12:00,13:30-18:00" as minutes; "" is a day without hours. A range ends after it
    starts, ranges do not overlap, and come in order."""
    ranges: list[tuple[int, int]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        start_text, dash, end_text = part.partition("-")
        if not dash:
            raise ValueError(f"{part!r} is not a range (HH:MM-HH:MM, e.g. \"09:00-18:00\")")
        start, end = _minutes(start_text), _minutes(end_text)
        if end <= start:
            raise ValueError(f"{part!r} ends before it starts (a day runs 00:00-24:00)")
        if ranges and start < ranges[-1][1]:
            raise ValueError(f"{part!r} overlaps or comes before the range ahead of it")
        ranges.append((start, end))
    return tuple(ranges)


def _ranges_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string of ranges such as \"09:00-12:00,13:30-18:00\"")
    parse_ranges(value)
    return value


def _closed_date(value: Any) -> date:
    if isinstance(value, date):  # TOML's own date, 2026-10-01 unquoted
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD, e.g. \"2026-10-01\")")


DayRanges = Annotated[str, BeforeValidator(_ranges_text)]
ClosedDate = Annotated[date, BeforeValidator(_closed_date)]


class Weekly(BaseModel):
    """Opening ranges per day of the week; a day left out is closed."""

    model_config = ConfigDict(extra="forbid")

    mon: DayRanges = ""
    tue: DayRanges = ""
    wed: DayRanges = ""
    thu: DayRanges = ""
    fri: DayRanges = ""
    sat: DayRanges = ""
    sun: DayRanges = ""

    def ranges(self) -> tuple[Ranges, ...]:
        """Each day's ranges, Monday first."""
        return tuple(parse_ranges(getattr(self, day)) for day in DAYS)


class HoursSettings(BaseModel):
    """When people are at the desk. `timezone` empty: `[hours] timezone` for a channel's or a
    group's hours, `[server] timezone` (else the host's) for `[hours]` itself."""

    model_config = ConfigDict(extra="forbid")

    timezone: Annotated[str, AfterValidator(lambda name: known_zone(name) if name else name)] = ""
    weekly: Weekly = Field(default_factory=Weekly)
    closed_dates: list[ClosedDate] = Field(default_factory=list)  # whole days closed, in the shop's zone

"""Business hours over time: whether the desk is open at an instant, when it opens next, and how
many open seconds lie between two instants — in the shop's zone, its daylight-saving changes and
closed dates included. Pure: every answer depends on the instants given, never on the clock.

Ranges of consecutive days that meet at midnight ("…-24:00" then "00:00-…") are one stretch, so
the desk open through the night never "opens" at midnight.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from csgw.config.hours import MINUTES_PER_DAY, HoursSettings, Ranges
from csgw.gateway.clock import shop_zone

Stretch = tuple[datetime, datetime]  # open from the first instant up to (not including) the second, UTC
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Schedule:
    zone: tzinfo
    weekly: tuple[Ranges, ...]  # seven days, Monday first
    closed_dates: frozenset[date] = frozenset()

    @classmethod
    def from_settings(cls, hours: HoursSettings, default_zone: str = "") -> Schedule:
        """`hours` as written; a missing `timezone` is `default_zone` (empty: the host's)."""
        return cls(shop_zone(hours.timezone or default_zone), hours.weekly.ranges(), frozenset(hours.closed_dates))

    @property
    def never_opens(self) -> bool:
        """A week without a single range: nobody is ever at the desk."""
        return not any(self.weekly)

    def is_open(self, at: datetime) -> bool:
        return any(start <= at for start, _ in self.stretches(at, at + timedelta(microseconds=1)))

    def next_opening(self, at: datetime) -> datetime | None:
        """`at` when open then, else when the desk opens next; None when it never opens."""
        if self.never_opens:
            return None
        # Each closed date takes at most one open day away, and every week has one.
        horizon = at + timedelta(days=7 * (len(self.closed_dates) + 1) + 1)
        return next((start for start, _ in self.stretches(at, horizon)), None)

    def business_seconds_between(self, start: datetime, end: datetime) -> float:
        """Open seconds from `start` to `end` (0 when `end` is not after `start`)."""
        return sum((until - since).total_seconds() for since, until in self.stretches(start, end))

    def stretches(self, since: datetime, until: datetime) -> Iterator[Stretch]:
        """The open stretches within [since, until), in order, cut to it."""
        if until <= since:
            return
        for start, end in self._merged(since.astimezone(self.zone).date(), until):
            if end > since:
                yield max(start, since), min(end, until)

    def _merged(self, first: date, until: datetime) -> Iterator[Stretch]:
        """Stretches from the day `first` on, those that meet joined, up to the one that reaches `until`."""
        current: Stretch | None = None
        for start, end in self._ranges_from(first):
            if start >= until:
                break
            if current is not None and start <= current[1]:
                current = (current[0], max(current[1], end))
                continue
            if current is not None:
                yield current
            current = (start, end)
        if current is not None:
            yield current

    def _ranges_from(self, day: date) -> Iterator[Stretch]:
        """Every day's ranges in UTC from `day` on, in order (endless unless the week is empty)."""
        while not self.never_opens:
            if day not in self.closed_dates:
                for start, end in self.weekly[day.weekday()]:
                    opens, closes = self._instant(day, start), self._instant(day, end)
                    if closes > opens:  # a range inside a daylight-saving gap has no length
                        yield opens, closes
            day += ONE_DAY

    def _instant(self, day: date, minutes: int) -> datetime:
        # 24:00 is the next day's midnight, with that day's offset
        day += timedelta(days=minutes // MINUTES_PER_DAY)
        minutes %= MINUTES_PER_DAY
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone).astimezone(UTC)

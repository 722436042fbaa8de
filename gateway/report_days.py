"""The days of a report's range as the shop counts them (`[server] timezone`), and SQL that puts a
stored time into its day on either engine.

Neither engine is asked to convert zones (SQLite cannot): the boundaries are the shop's local
midnights, computed here with their daylight-saving changes, and a balanced CASE tree over them
finds a time's day in about log2(days) comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

MAX_TREND_DAYS = 366  # a longer range has no trend (one CASE branch per day)


@dataclass(frozen=True, slots=True)
class ShopDays:
    """The local days touching [since, until): `days[i]` starts at `starts[i]` (UTC); time before
    `starts[1]` is day 0 (which may begin before `since`)."""

    days: tuple[date, ...]
    starts: tuple[datetime, ...]

    def index_sql(self, column: str, prefix: str = "day_") -> tuple[str, dict[str, datetime]]:
        """SQL giving the day index of timestamp `column`, and the parameters it names."""
        params = {f"{prefix}{i}": start for i, start in enumerate(self.starts) if i}
        return _tree(column, prefix, 0, len(self.days)), params


def shop_days(since: datetime, until: datetime, zone: tzinfo) -> ShopDays | None:
    """The shop's days from the one holding `since` to the one holding the instant before
    `until`; None when that is more than `MAX_TREND_DAYS`."""
    first = since.astimezone(zone).date()
    last = (until - timedelta(microseconds=1)).astimezone(zone).date()
    count = (last - first).days + 1
    if count > MAX_TREND_DAYS:
        return None
    days = tuple(first + timedelta(days=n) for n in range(count))
    return ShopDays(days, tuple(_midnight(day, zone) for day in days))


def _midnight(day: date, zone: tzinfo) -> datetime:
    # each midnight with its own offset: a day across a daylight-saving change is 23 or 25 hours
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _tree(column: str, prefix: str, low: int, high: int) -> str:
    """Day index in [low, high) for `column`: split at the middle day's start."""
    if high - low == 1:
        return str(low)
    middle = (low + high) // 2
    return (f"CASE WHEN {column} < :{prefix}{middle} THEN {_tree(column, prefix, low, middle)} "
            f"ELSE {_tree(column, prefix, middle, high)} END")

"""One place that says what time it is, so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo


def now() -> datetime:
    return datetime.now(UTC)


def shop_zone(name: str) -> tzinfo:
    """`[server] timezone`, or the host's zone when it is empty."""
    if name:
        return ZoneInfo(name)
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


def shop_time(stamp: datetime | None, zone: tzinfo, *, seconds: bool = False) -> str:
    """A stored time as people at the shop read it: `2026-11-26 18:05` in the shop's zone."""
    if stamp is None:
        return ""
    if stamp.tzinfo is None:  # the store's times are UTC
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")

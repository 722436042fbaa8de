"""One place that says what time it is, so tests can move it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_source: Callable[[], datetime] | None = None  # a test's clock; None: the real one


def now() -> datetime:
    return _source() if _source is not None else datetime.now(UTC)


@contextmanager
def use_clock(source: Callable[[], datetime]) -> Iterator[None]:
    """`now()` answers `source()` inside the block (a test's fake clock), the real time after it."""
    global _source
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous


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


def shop_zone_name(name: str) -> str:
    """The shop's zone as a browser's `Intl.DateTimeFormat` takes it: `[server] timezone`, else
    the host's IANA name (from TZ or /etc/localtime), else the host's offset now ("+08:00")."""
    if name:
        return name
    tz = os.environ.get("TZ")  # when set, it is what the host's own clock follows
    candidate = tz.lstrip(":") if tz is not None else _localtime_name()
    if candidate and _known_zone(candidate):
        return candidate
    offset = datetime.now().astimezone().utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    if not minutes:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _localtime_name() -> str:
    """The zone /etc/localtime links to (…/zoneinfo/Asia/Shanghai), or ""."""
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return ""
    _, found, name = target.partition("/zoneinfo/")
    return name if found else ""


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True

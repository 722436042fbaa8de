"""Which incident desk runs for which gateway (a test process may run several)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from .desk import IncidentDesk

RUNNING: WeakKeyDictionary[object, IncidentDesk] = WeakKeyDictionary()


def running(services: object) -> IncidentDesk | None:
    return RUNNING.get(services)

"""The waiting-time limits of `[escalation]`, one definition for the escalations that act on them
(`plugins/escalation/limits.py`) and the report that counts their misses (`gateway/reports.py`).

A conversation a person has (queued or assigned) misses its limit when the customer waits that
long or longer:
- for the first response: from the hand-over (`waiting_since`, else the opening) to the first
  agent reply, `first_response_seconds`;
- for a next response: from a customer's message after the first response to the next message in
  the conversation (a reply or notice to the customer, or the customer's next message, from which
  the wait starts again), `next_response_seconds`.

A wait still going counts up to now; one the close ended, up to the close. With business hours
(the conversation's group's, else its channel's, else `[hours]`: `gateway/desk_hours.py`) a wait
counts open time only: a customer who writes at night has waited nothing until the shift opens.

The limit is the one of the highest priority step not above the conversation's priority (the
lowest step's below all steps).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from csgw.gateway.hours import Schedule


def limit_for(table: Mapping[int, float], priority: int) -> float | None:
    """The limit of the highest priority step not above `priority` (the lowest step below all)."""
    if not table:
        return None
    steps = [p for p in table if p <= priority]
    return table[max(steps)] if steps else table[min(table)]


def limit_sql(table: Mapping[int, float], priority: str) -> str:
    """SQL for `limit_for(table, <priority>)`, `priority` being an integer SQL expression; NULL
    (nothing is ever missed) for an empty table. The numbers come from the validated config."""
    if not table:
        return "NULL"
    steps = sorted(table, reverse=True)
    lowest = float(table[steps[-1]])
    whens = " ".join(f"WHEN {priority} >= {int(step)} THEN {float(table[step])}" for step in steps[:-1])
    return f"(CASE {whens} ELSE {lowest} END)" if whens else f"({lowest})"


def waited_seconds(schedule: Schedule | None, start: datetime, end: datetime) -> float:
    """The wait from `start` to `end`: the open seconds of `schedule`, or every second without one."""
    if schedule is None:
        return (end - start).total_seconds()
    return schedule.business_seconds_between(start, end)

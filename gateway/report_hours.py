"""Business hours in the report's SQL, so that it counts SLA waits in open time as the
waiting-limit escalations do (`gateway/sla.py`).

Neither engine knows the shop's hours: the open stretches of every schedule from the range's
start up to now are computed here (`gateway/hours.py`) and written into the query as a small
table, `open_hours(k, s, e)`; a wait is the sum of its overlaps with its conversation's
schedule's stretches. A conversation no hours apply to waits in wall time, as before hours.
"""

from __future__ import annotations

from datetime import datetime

from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.hours import Schedule
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.storage.timestamps import sqlite_text


class WaitClock:
    """SQL for the seconds a customer waited, over conversation `c`."""

    def __init__(self, sql: Sql, hours: DeskHours | None, since: datetime, until: datetime) -> None:
        self.sql = sql
        self.params: dict[str, str] = {}
        self.schedules: list[Schedule] = []
        self.key = self._key(hours) if hours is not None and hours.configured else None
        self.stretches = [(index, start, end) for index, schedule in enumerate(self.schedules)
                          for start, end in schedule.stretches(since, max(since, until))]

    def cte(self) -> str:
        """`open_hours AS (…),` to open the query's WITH with; empty without hours."""
        if self.key is None:
            return ""
        if not self.stretches:
            return f"open_hours(k, s, e) AS (SELECT 0, {self._time(None)}, {self._time(None)} WHERE 1 = 0),"
        rows = ", ".join(f"({index}, {self._time(start)}, {self._time(end)})" for index, start, end in self.stretches)
        return f"open_hours(k, s, e) AS (VALUES {rows}),"

    def seconds(self, start: str, end: str) -> str:
        """The wait from timestamp expression `start` to `end`: open seconds of the conversation's
        hours, or wall seconds when it keeps none."""
        wall = self.sql.seconds(start, end)
        if self.key is None:
            return wall
        overlap = self.sql.seconds(f"CASE WHEN h.s > {start} THEN h.s ELSE {start} END",
                                   f"CASE WHEN h.e < {end} THEN h.e ELSE {end} END")
        business = (f"(SELECT COALESCE(SUM({overlap}), 0) FROM open_hours h "
                    f"WHERE h.k = {self.key} AND h.s < {end} AND h.e > {start})")
        return f"(CASE WHEN {self.key} IS NULL THEN {wall} ELSE {business} END)"

    def _key(self, hours: DeskHours) -> str:
        """The index of the schedule a conversation keeps (`DeskHours.schedule_for`), or NULL."""
        whens = []
        for name, schedule in hours.groups.items():
            whens.append(f'c."group" = {self._param(name)} THEN {self._index(schedule)}')
        for (channel, account), schedule in hours.channels.items():
            whens.append(f"c.channel = {self._param(channel)} AND c.account = {self._param(account)} "
                         f"THEN {self._index(schedule)}")
        default = str(self._index(hours.shop)) if hours.shop is not None else "NULL"
        return f"(CASE {' '.join(f'WHEN {when}' for when in whens)} ELSE {default} END)" if whens else f"({default})"

    def _index(self, schedule: Schedule) -> int:
        self.schedules.append(schedule)
        return len(self.schedules) - 1

    def _param(self, value: str) -> str:
        name = f"hours_{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def _time(self, stamp: datetime | None) -> str:
        # computed instants, never user input: safe to write into the query
        text = "NULL" if stamp is None else f"'{sqlite_text(stamp)}'"
        return text if self.sql.sqlite else f"CAST({text} AS TIMESTAMPTZ)"

"""The report's SQL for a wait in business time gives what `Schedule.business_seconds_between`
gives, in the database, on both engines: each conversation by the hours it keeps (its group's,
its channel's, `[hours]`), wall time for one that keeps none, and nothing for hours that never
open."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.models import Conversation
from csgw.gateway.report_hours import WaitClock
from csgw.gateway.storage.db import close_database, open_database
from csgw.gateway.storage.dialect import Sql
from csgw.gateway.testing import make_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
SINCE = datetime(2026, 9, 28, tzinfo=SHANGHAI)
NOW = SINCE + timedelta(days=14)
WAITS = [(SINCE + timedelta(hours=h), SINCE + timedelta(hours=h + length))
         for h, length in ((8, 2), (17.5, 16), (40.25, 100.5), (0, 14 * 24), (30, 0), (300, 30.5))]
# a group with hours, a channel with hours, [hours] (or none), a group with hours that never open
CONVERSATIONS = [("鞋", "fake", "night"), (None, "fake", "night"), (None, "fake", "shop"),
                 ("closed", "fake", "shop"), (None, "wechat_oa", "free")]


NIGHT = [{"plugin": "fake", "account": "night", "hours": {
    "timezone": "Asia/Shanghai", "weekly": {"sat": "00:00-24:00", "sun": "00:00-02:00"}}}]


async def test_business_seconds_in_sql_match_the_schedule(tmp_path, database_url):
    everywhere = DeskHours(make_settings(
        tmp_path, channels=NIGHT,
        hours={"timezone": "Asia/Shanghai", "weekly": {"mon": "09:00-12:00,13:30-18:00", "tue": "09:00-18:00"},
               "closed_dates": ["2026-10-06"]},
        assignment={"groups": {"鞋": {"hours": {"weekly": {"wed": "10:00-22:00"}}}, "closed": {"hours": {}}}}))
    one_channel = DeskHours(make_settings(tmp_path, channels=NIGHT))  # the others keep none: wall time
    await open_database(database_url)
    try:
        for group, channel, account in CONVERSATIONS:
            await Conversation.create(customer_id=1, channel=channel, account=account, group=group, state="closed",
                                      opened_at=SINCE, last_message_at=SINCE)
        sql = Sql()
        a, b = (":a", ":b") if sql.sqlite else ("CAST(:a AS TIMESTAMPTZ)", "CAST(:b AS TIMESTAMPTZ)")
        for hours in (everywhere, one_channel):
            waits = WaitClock(sql, hours, SINCE, NOW)
            for start, end in WAITS:
                rows = await sql.rows(f"WITH {waits.cte()} one AS (SELECT 1 AS x) SELECT c.\"group\" AS grp, c.channel, "
                                      f"c.account, {waits.seconds(a, b)} AS seconds FROM conversation c",
                                      a=start, b=end, **waits.params)
                assert len(rows) == len(CONVERSATIONS)
                for row in rows:
                    schedule = hours.schedule_for(row["grp"], row["channel"], row["account"])
                    expected = (schedule.business_seconds_between(start, end) if schedule is not None
                                else (end - start).total_seconds())
                    assert abs(float(row["seconds"]) - expected) < 0.01, (row, start, end, expected)

        never = WaitClock(sql, DeskHours(make_settings(tmp_path, hours={})), SINCE, NOW)
        [row] = await sql.rows(f"WITH {never.cte()} one AS (SELECT 1 AS x) "
                               f"SELECT {never.seconds(a, b)} AS seconds", a=SINCE, b=NOW, **never.params)
        assert float(row["seconds"]) == 0 and not never.stretches
    finally:
        await close_database()

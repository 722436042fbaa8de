"""Service figures over a time range, computed in SQL: response and handling times, resolution,
bot containment, satisfaction and SLA misses — in total, per agent, per channel account, per group.

Conversations count in the range they were opened in. First response runs from the hand-over to a
person (or the opening) to the first agent reply; handling from assignment to close; a closed
conversation is resolved when the customer opens no new one on that account within N hours. An
SLA miss is a wait past the `[escalation]` limits as `gateway/sla.py` defines them (the waiting
limits escalate by the same definition), or a conversation they escalated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from csgw.config.schema import EscalationSettings
from csgw.gateway.clock import now, shop_zone
from csgw.gateway.models import Agent
from csgw.gateway.sla import limit_sql
from csgw.gateway.storage.dialect import Sql, as_float

if TYPE_CHECKING:
    from csgw.config.schema import Settings


@dataclass(frozen=True, slots=True)
class ReportRange:
    since: datetime
    until: datetime
    reopen_hours: float = 24
    # the waiting-time limits by priority, `[escalation] first_response_seconds` / `next_response_seconds`
    first_response_limits: Mapping[int, float] = field(
        default_factory=lambda: EscalationSettings().first_response_seconds)
    next_response_limits: Mapping[int, float] = field(
        default_factory=lambda: EscalationSettings().next_response_seconds)


class RangeError(ValueError):
    """A time the user gave cannot be read, or the range is empty."""


def parse_time(value: str, name: str, zone: tzinfo | None = None) -> datetime:
    """An ISO date or time; without a zone it is the shop's time (`[server] timezone`, else the host's)."""
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        raise RangeError(f"{name} {value!r} is not an ISO date or time "
                         "(e.g. 2026-11-01 or 2026-11-01T08:00:00+08:00)") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=zone or shop_zone(""))


def report_range(since: str | None, until: str | None, settings: Settings, *, days: float = 30) -> ReportRange:
    """The range a user asked for; by default the last `days` days up to now."""
    zone = shop_zone(settings.server.timezone)
    end = parse_time(until, "until", zone) if until else now()
    start = parse_time(since, "since", zone) if since else end - timedelta(days=days)
    if start >= end:
        raise RangeError("since must be before until")
    return ReportRange(start, end, settings.health.report_reopen_hours,
                       settings.escalation.first_response_seconds, settings.escalation.next_response_seconds)


# julianday arithmetic is off by up to ~0.1 ms: a wait of exactly the limit still reaches it
SLA_SLACK = 0.001


def sla_missed_sql(sql: Sql, span: ReportRange) -> str:
    """1 when a conversation with a person waited past a limit (`gateway/sla.py`), else 0; a wait
    still going runs to :sla_end (now, or the range's end)."""
    first_limit = limit_sql(span.first_response_limits, "c.priority")
    next_limit = limit_sql(span.next_response_limits, "c.priority")
    first_wait = sql.seconds("COALESCE(c.waiting_since, c.opened_at)",
                             "COALESCE(c.first_response_at, c.closed_at, :sla_end)")
    following = ("(SELECT MIN(n.created_at) FROM message n WHERE n.conversation_id = c.id AND n.id > m.id "
                 "AND n.direction IN ('in', 'out'))")
    next_wait = sql.seconds("m.created_at", f"COALESCE({following}, c.closed_at, :sla_end)")
    escalated = ("json_extract(c.flags, '$.sla_missed') = 1" if sql.sqlite
                 else "(c.flags::jsonb ->> 'sla_missed') = 'true'")
    return f"""CASE WHEN (c.waiting_since IS NOT NULL OR c.assigned_at IS NOT NULL) AND (
               {escalated}
               OR {first_wait} >= {first_limit} - {SLA_SLACK}
               OR EXISTS (SELECT 1 FROM message m WHERE m.conversation_id = c.id AND m.direction = 'in'
                   AND m.created_at >= c.first_response_at AND (c.closed_at IS NULL OR m.created_at < c.closed_at)
                   AND {next_wait} >= {next_limit} - {SLA_SLACK}))
             THEN 1 ELSE 0 END"""


def base_query(sql: Sql, span: ReportRange) -> str:
    """One row per conversation opened in the range, with its measured figures."""
    start = ("CASE WHEN c.waiting_since IS NOT NULL AND c.waiting_since <= c.first_response_at "
             "THEN c.waiting_since ELSE c.opened_at END")
    first_response = sql.seconds(start, "c.first_response_at")
    return f"""
    base AS (
      SELECT c.id, c.agent_id, c.channel, c.account, c."group" AS grp, c.satisfaction AS sat,
        CASE WHEN c.first_response_at IS NOT NULL THEN {first_response} END AS fr,
        CASE WHEN c.closed_at IS NOT NULL AND c.assigned_at IS NOT NULL
             THEN {sql.seconds("c.assigned_at", "c.closed_at")} END AS ht,
        CASE WHEN c.waiting_since IS NOT NULL OR c.assigned_at IS NOT NULL THEN 1 ELSE 0 END AS human,
        CASE WHEN c.closed_at IS NOT NULL THEN 1 ELSE 0 END AS closed,
        CASE WHEN c.closed_at IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM conversation r WHERE r.customer_id = c.customer_id AND r.channel = c.channel
                 AND r.account = c.account AND r.id <> c.id AND r.opened_at >= c.closed_at
                 AND {sql.seconds("c.closed_at", "r.opened_at")} < :reopen_seconds)
             THEN 1 ELSE 0 END AS resolved,
        CASE WHEN EXISTS (SELECT 1 FROM message b WHERE b.conversation_id = c.id AND b.sender = 'bot')
             THEN 1 ELSE 0 END AS bot,
        {sla_missed_sql(sql, span)} AS sla_missed
      FROM conversation c WHERE c.opened_at >= :since AND c.opened_at < :until
    ),
    dims AS (
      SELECT 'total' AS dim, '' AS k, base.* FROM base
      UNION ALL SELECT 'agent', CAST(agent_id AS TEXT), base.* FROM base WHERE agent_id IS NOT NULL
      UNION ALL SELECT 'channel', channel || '/' || account, base.* FROM base
      UNION ALL SELECT 'group', grp, base.* FROM base WHERE grp IS NOT NULL
    )"""


def percentile_query(column: str) -> str:
    """Nearest-rank p90 of `column` per dimension, with window functions (both engines have them)."""
    return f"""
    {column}_ranked AS (
      SELECT dim, k, {column} AS v, ROW_NUMBER() OVER (PARTITION BY dim, k ORDER BY {column}) AS rn,
             COUNT(*) OVER (PARTITION BY dim, k) AS n
      FROM dims WHERE {column} IS NOT NULL
    ),
    {column}_p90 AS (SELECT dim, k, MIN(v) AS p90 FROM {column}_ranked WHERE rn >= 0.9 * n GROUP BY dim, k)"""


def figures_query(sql: Sql, span: ReportRange) -> str:
    return f"""WITH {base_query(sql, span)}, {percentile_query("fr")}, {percentile_query("ht")},
    agg AS (
      SELECT dim, k, COUNT(*) AS conversations, SUM(human) AS handed_over, SUM(closed) AS closed,
             SUM(resolved) AS resolved, SUM(bot) AS bot_answered,
             SUM(CASE WHEN bot = 1 AND human = 0 THEN 1 ELSE 0 END) AS bot_contained,
             COUNT(fr) AS fr_count, AVG(fr) AS fr_avg, COUNT(ht) AS ht_count, AVG(ht) AS ht_avg,
             COUNT(sat) AS sat_count, AVG(sat) AS sat_avg, SUM(sla_missed) AS sla_missed
      FROM dims GROUP BY dim, k
    )
    SELECT agg.*, fr_p90.p90 AS fr_p90, ht_p90.p90 AS ht_p90 FROM agg
    LEFT JOIN fr_p90 ON fr_p90.dim = agg.dim AND fr_p90.k = agg.k
    LEFT JOIN ht_p90 ON ht_p90.dim = agg.dim AND ht_p90.k = agg.k
    ORDER BY agg.dim, agg.k"""


AGENT_MESSAGES = """SELECT agent_id, COUNT(*) AS n FROM message
WHERE sender = 'agent' AND direction = 'out' AND agent_id IS NOT NULL AND created_at >= :since AND created_at < :until
GROUP BY agent_id"""


EMPTY = {"conversations": 0, "closed": 0, "fr_count": 0, "ht_count": 0, "sat_count": 0,
         **dict.fromkeys(("handed_over", "resolved", "bot_answered", "bot_contained", "fr_avg", "fr_p90",
                          "ht_avg", "ht_p90", "sat_avg", "sla_missed"))}


def _ratio(part: Any, whole: Any) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(row: dict[str, Any]) -> dict[str, Any]:
    conversations, closed = int(row["conversations"]), int(row["closed"] or 0)
    return {
        "conversations": conversations,
        "handed_over": int(row["handed_over"] or 0),
        "first_response": {"count": int(row["fr_count"]), "avg_seconds": as_float(row["fr_avg"], 1),
                           "p90_seconds": as_float(row["fr_p90"], 1)},
        "handling": {"count": int(row["ht_count"]), "avg_seconds": as_float(row["ht_avg"], 1),
                     "p90_seconds": as_float(row["ht_p90"], 1)},
        "closed": closed,
        "resolved": int(row["resolved"] or 0),
        "resolution_rate": _ratio(int(row["resolved"] or 0), closed),
        "bot_answered": int(row["bot_answered"] or 0),
        "bot_contained": int(row["bot_contained"] or 0),
        "bot_containment_rate": _ratio(int(row["bot_contained"] or 0), conversations),
        "satisfaction": {"average": as_float(row["sat_avg"], 2), "responses": int(row["sat_count"]),
                         "response_rate": _ratio(int(row["sat_count"]), closed)},
        "sla_missed": int(row["sla_missed"] or 0),
    }


async def service_report(span: ReportRange) -> dict[str, Any]:
    """Everything `csgw report` and `GET /api/v1/reports` show, for conversations opened in the range."""
    sql = Sql()
    params = {"since": span.since, "until": span.until, "reopen_seconds": span.reopen_hours * 3600.0,
              "sla_end": min(now(), span.until)}
    rows = await sql.rows(figures_query(sql, span), **params)
    sent = {row["agent_id"]: int(row["n"]) for row in
            await sql.rows(AGENT_MESSAGES, since=span.since, until=span.until)}
    names = dict(await Agent.all().values_list("id", "name"))
    report: dict[str, Any] = {
        "since": span.since.isoformat(), "until": span.until.isoformat(),
        "reopen_hours": span.reopen_hours,
        "sla": {"first_response_seconds": {str(p): s for p, s in sorted(span.first_response_limits.items())},
                "next_response_seconds": {str(p): s for p, s in sorted(span.next_response_limits.items())}},
        "total": figures(EMPTY),
        "agents": [], "channels": [], "groups": [],
    }
    for row in rows:
        entry = figures(row)
        if row["dim"] == "total":
            report["total"] = entry
        elif row["dim"] == "agent":
            agent_id = int(row["k"])
            report["agents"].append({"agent_id": agent_id, "agent": names.get(agent_id),
                                     "messages_sent": sent.pop(agent_id, 0), **entry})
        elif row["dim"] == "channel":
            channel, _, account = row["k"].partition("/")
            report["channels"].append({"channel": channel, "account": account, **entry})
        else:
            report["groups"].append({"group": row["k"], **entry})
    for agent_id, count in sent.items():  # replied in the range to conversations opened before it
        report["agents"].append({"agent_id": agent_id, "agent": names.get(agent_id), "messages_sent": count,
                                 **figures(EMPTY)})
    return report

"""Service figures over a time range, computed in SQL: response and handling times, resolution,
bot containment, satisfaction and SLA misses — in total and per agent, channel account, group,
KB category or tag, with a trend per day in the shop's time zone.

Conversations count in the range they were opened in. First response runs from the hand-over to a
person (or the opening) to the first agent reply; handling from assignment to close; a closed
conversation is resolved when the customer opens no new one on that account within N hours, else
reopened. An SLA miss is a wait past the `[escalation]` limits as `gateway/sla.py` defines them
(the waiting limits escalate by the same definition), or a conversation they escalated.

A conversation's categories are the tags the bot put on it (source "reply": the KB category of
each question it answered or offered answers for); its tags are all of them, agents' included.
A conversation with several counts under each; one with none under `null` (uncategorised).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from csgw.config.schema import EscalationSettings
from csgw.gateway.clock import now, shop_zone
from csgw.gateway.desk_hours import DeskHours
from csgw.gateway.models import Agent
from csgw.gateway.ratings import latest_comments
from csgw.gateway.report_days import ShopDays, shop_days
from csgw.gateway.report_hours import WaitClock
from csgw.gateway.report_questions import unanswered_by_category
from csgw.gateway.sla import limit_sql
from csgw.gateway.storage.dialect import Sql, as_float

if TYPE_CHECKING:
    from csgw.config.schema import Settings
    from csgw.gateway.report_sections import ReportSection


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
    zone: tzinfo = UTC  # the shop's (`[server] timezone`): where the trend's days begin
    hours: DeskHours | None = None  # business hours: SLA waits count open time only


# what `--by` / `?by=` may break the figures down by, and the report's list of each
BREAKDOWNS = {"agent": "agents", "channel": "channels", "group": "groups", "category": "categories", "tag": "tags"}
DEFAULT_BREAKDOWNS = ("agent", "channel", "group")  # without `by`: the report as it always was


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
                       settings.escalation.first_response_seconds, settings.escalation.next_response_seconds, zone,
                       DeskHours(settings))


def breakdowns_for(by: str | None) -> tuple[str, ...]:
    """The breakdowns a `by` asks for (None: the default ones); RangeError for one not known."""
    if by is None:
        return DEFAULT_BREAKDOWNS
    if by not in BREAKDOWNS:
        raise RangeError(f"by is one of {', '.join(BREAKDOWNS)} (got {by!r})")
    return (by,)


# julianday arithmetic is off by up to ~0.1 ms: a wait of exactly the limit still reaches it
SLA_SLACK = 0.001


def sla_missed_sql(sql: Sql, span: ReportRange, waits: WaitClock) -> str:
    """1 when a conversation with a person waited past a limit (`gateway/sla.py`; open time only
    with business hours), else 0; a wait still going runs to :sla_end (now, or the range's end)."""
    first_limit = limit_sql(span.first_response_limits, "c.priority")
    next_limit = limit_sql(span.next_response_limits, "c.priority")
    first_wait = waits.seconds("COALESCE(c.waiting_since, c.opened_at)",
                               "COALESCE(c.first_response_at, c.closed_at, :sla_end)")
    following = ("(SELECT MIN(n.created_at) FROM message n WHERE n.conversation_id = c.id AND n.id > m.id "
                 "AND n.direction IN ('in', 'out'))")
    next_wait = waits.seconds("m.created_at", f"COALESCE({following}, c.closed_at, :sla_end)")
    escalated = ("json_extract(c.flags, '$.sla_missed') = 1" if sql.sqlite
                 else "(c.flags::jsonb ->> 'sla_missed') = 'true'")
    return f"""CASE WHEN (c.waiting_since IS NOT NULL OR c.assigned_at IS NOT NULL) AND (
               {escalated}
               OR {first_wait} >= {first_limit} - {SLA_SLACK}
               OR EXISTS (SELECT 1 FROM message m WHERE m.conversation_id = c.id AND m.direction = 'in'
                   AND m.created_at >= c.first_response_at AND (c.closed_at IS NULL OR m.created_at < c.closed_at)
                   AND {next_wait} >= {next_limit} - {SLA_SLACK}))
             THEN 1 ELSE 0 END"""


def base_query(sql: Sql, span: ReportRange, day: str, waits: WaitClock) -> str:
    """One row per conversation opened in the range, with its measured figures and `day` (the
    SQL of its day's index in the trend, or -1)."""
    start = ("CASE WHEN c.waiting_since IS NOT NULL AND c.waiting_since <= c.first_response_at "
             "THEN c.waiting_since ELSE c.opened_at END")
    first_response = sql.seconds(start, "c.first_response_at")
    return f"""
    base AS (
      SELECT c.id, c.agent_id, c.channel, c.account, c."group" AS grp, c.satisfaction AS sat,
        CASE WHEN c.satisfaction_comment IS NOT NULL THEN 1 ELSE 0 END AS commented, {day} AS day,
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
        {sla_missed_sql(sql, span, waits)} AS sla_missed
      FROM conversation c WHERE c.opened_at >= :since AND c.opened_at < :until
    )"""


def _tagged(dim: str, source: str) -> tuple[str, ...]:
    """A tag dimension: each tag's conversations, and those without any under ''."""
    return (f"SELECT '{dim}', t.tag, {{d}}, base.* FROM base JOIN conversation_tag t "
            f"ON t.conversation_id = base.id{source}",
            f"SELECT '{dim}', '', {{d}}, base.* FROM base WHERE NOT EXISTS "
            f"(SELECT 1 FROM conversation_tag t WHERE t.conversation_id = base.id{source})")


# Each breakdown's rows: dimension, key, day ({d}: -1 for the whole range), the conversation.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "agent": ("SELECT 'agent', CAST(agent_id AS TEXT), {d}, base.* FROM base WHERE agent_id IS NOT NULL",),
    "channel": ("SELECT 'channel', channel || '/' || account, {d}, base.* FROM base",),
    "group": ("SELECT 'group', grp, {d}, base.* FROM base WHERE grp IS NOT NULL",),
    "category": _tagged("category", " AND t.source = 'reply'"),
    "tag": _tagged("tag", ""),
}
DAILY = ("category", "tag")  # breakdowns with a trend of their own


def dims_query(breakdowns: tuple[str, ...], trend: bool) -> str:
    parts = ["SELECT 'total' AS dim, '' AS k, -1 AS d, base.* FROM base"]
    if trend:
        parts.append("SELECT 'total', '', day, base.* FROM base")
    for name in breakdowns:
        parts += [part.format(d="-1") for part in DIMENSIONS[name]]
        if trend and name in DAILY:
            parts += [part.format(d="day") for part in DIMENSIONS[name]]
    return "dims AS (\n      " + "\n      UNION ALL ".join(parts) + "\n    )"


def percentile_query(column: str) -> str:
    """Nearest-rank p90 of `column` per dimension, with window functions (both engines have them)."""
    return f"""
    {column}_ranked AS (
      SELECT dim, k, d, {column} AS v, ROW_NUMBER() OVER (PARTITION BY dim, k, d ORDER BY {column}) AS rn,
             COUNT(*) OVER (PARTITION BY dim, k, d) AS n
      FROM dims WHERE {column} IS NOT NULL
    ),
    {column}_p90 AS (SELECT dim, k, d, MIN(v) AS p90 FROM {column}_ranked WHERE rn >= 0.9 * n GROUP BY dim, k, d)"""


def figures_query(sql: Sql, span: ReportRange, breakdowns: tuple[str, ...], days: ShopDays | None,
                  ) -> tuple[str, dict[str, Any]]:
    """The query (one row per dimension, key and day) and the parameters it names (day
    boundaries, the names business hours are kept by)."""
    day, params = days.index_sql("c.opened_at") if days else ("-1", {})
    waits = WaitClock(sql, span.hours, span.since, now())
    query = f"""WITH {waits.cte()}{base_query(sql, span, day, waits)}, {dims_query(breakdowns, days is not None)},
    {percentile_query("fr")}, {percentile_query("ht")},
    agg AS (
      SELECT dim, k, d, COUNT(*) AS conversations, SUM(human) AS handed_over, SUM(closed) AS closed,
             SUM(resolved) AS resolved, SUM(bot) AS bot_answered,
             SUM(CASE WHEN bot = 1 AND human = 0 THEN 1 ELSE 0 END) AS bot_contained,
             COUNT(fr) AS fr_count, AVG(fr) AS fr_avg, COUNT(ht) AS ht_count, AVG(ht) AS ht_avg,
             COUNT(sat) AS sat_count, AVG(sat) AS sat_avg, SUM(commented) AS sat_comments,
             SUM(sla_missed) AS sla_missed
      FROM dims GROUP BY dim, k, d
    )
    SELECT agg.*, fr_p90.p90 AS fr_p90, ht_p90.p90 AS ht_p90 FROM agg
    LEFT JOIN fr_p90 ON fr_p90.dim = agg.dim AND fr_p90.k = agg.k AND fr_p90.d = agg.d
    LEFT JOIN ht_p90 ON ht_p90.dim = agg.dim AND ht_p90.k = agg.k AND ht_p90.d = agg.d
    ORDER BY agg.dim, agg.k, agg.d"""
    return query, {**params, **waits.params}


AGENT_MESSAGES = """SELECT agent_id, COUNT(*) AS n FROM message
WHERE sender = 'agent' AND direction = 'out' AND agent_id IS NOT NULL AND created_at >= :since AND created_at < :until
GROUP BY agent_id"""


EMPTY = {"conversations": 0, "closed": 0, "fr_count": 0, "ht_count": 0, "sat_count": 0,
         **dict.fromkeys(("handed_over", "resolved", "bot_answered", "bot_contained", "fr_avg", "fr_p90",
                          "ht_avg", "ht_p90", "sat_avg", "sat_comments", "sla_missed"))}


def _ratio(part: Any, whole: Any) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(row: dict[str, Any]) -> dict[str, Any]:
    conversations, closed = int(row["conversations"]), int(row["closed"] or 0)
    reopened = closed - int(row["resolved"] or 0)
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
        "reopened": reopened,
        "reopen_rate": _ratio(reopened, closed),
        "bot_answered": int(row["bot_answered"] or 0),
        "bot_contained": int(row["bot_contained"] or 0),
        "bot_containment_rate": _ratio(int(row["bot_contained"] or 0), conversations),
        "satisfaction": {"average": as_float(row["sat_avg"], 2), "responses": int(row["sat_count"]),
                         "response_rate": _ratio(int(row["sat_count"]), closed),
                         "comments": int(row["sat_comments"] or 0)},
        "sla_missed": int(row["sla_missed"] or 0),
    }


def day_figures(day: str, row: dict[str, Any]) -> dict[str, Any]:
    """One day of a trend: the figures a chart needs, flat."""
    whole = figures(row)
    return {"day": day, "conversations": whole["conversations"], "handed_over": whole["handed_over"],
            "bot_contained": whole["bot_contained"], "bot_containment_rate": whole["bot_containment_rate"],
            "first_response_avg_seconds": whole["first_response"]["avg_seconds"],
            "handling_avg_seconds": whole["handling"]["avg_seconds"],
            "satisfaction_average": whole["satisfaction"]["average"],
            "satisfaction_responses": whole["satisfaction"]["responses"],
            "reopen_rate": whole["reopen_rate"], "sla_missed": whole["sla_missed"]}


async def service_report(span: ReportRange, by: str | None = None, *, trend: bool = True,
                         sections: Sequence[ReportSection] = ()) -> dict[str, Any]:
    """Everything `csgw report` and `GET /api/v1/reports` show, for conversations opened in the
    range: the total, the default breakdowns or the one `by` names, a trend per day (None for a
    range longer than `MAX_TREND_DAYS`; left out without `trend`, which saves a third of a long
    range's time), the latest comments, with `by="category"` the questions the bot left
    unanswered in the range, per category, and each plugin section's figures under its name."""
    sql = Sql()
    breakdowns = breakdowns_for(by)
    days = shop_days(span.since, span.until, span.zone) if trend else None
    query, day_params = figures_query(sql, span, breakdowns, days)
    rows = await sql.rows(query, since=span.since, until=span.until, reopen_seconds=span.reopen_hours * 3600.0,
                          sla_end=min(now(), span.until), **day_params)
    report: dict[str, Any] = {
        "since": span.since.isoformat(), "until": span.until.isoformat(), "by": by,
        "reopen_hours": span.reopen_hours,
        "sla": {"first_response_seconds": {str(p): s for p, s in sorted(span.first_response_limits.items())},
                "next_response_seconds": {str(p): s for p, s in sorted(span.next_response_limits.items())}},
        "total": figures(EMPTY),
        **{BREAKDOWNS[name]: [] for name in breakdowns},
    }
    labels = [day.isoformat() for day in days.days] if days else []
    daily: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["d"] == -1:
            if row["dim"] == "total":
                report["total"] = figures(row)
            else:
                report[BREAKDOWNS[row["dim"]]].append({**_key(row["dim"], row["k"]), **figures(row)})
        else:
            daily.setdefault((row["dim"], row["k"]), []).append(day_figures(labels[int(row["d"])], row))
    if trend:
        report["trend"] = _total_trend(labels, daily.get(("total", ""), [])) if days else None
    for name in set(breakdowns) & set(DAILY):
        for entry in report[BREAKDOWNS[name]]:
            if trend:
                entry["trend"] = daily.get((name, entry[name] or ""), []) if days else None
        report[BREAKDOWNS[name]].sort(key=lambda entry: (-entry["conversations"], entry[name] is None,
                                                         entry[name] or ""))
    if "agent" in breakdowns:
        await _name_agents(report["agents"], span)
    if by == "category":
        report["unanswered"] = await unanswered_by_category(sql, span.since, span.until)
    report["latest_comments"] = await latest_comments(sql, span.since, span.until)
    for section in sections:
        report[section.name] = await section.figures(span.since, span.until)
    return report


def _key(dim: str, key: str) -> dict[str, Any]:
    if dim == "agent":
        return {"agent_id": int(key)}
    if dim == "channel":
        channel, _, account = key.partition("/")
        return {"channel": channel, "account": account}
    return {dim: key or None}  # '': the conversations with no category (or no tag)


def _total_trend(labels: list[str], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every day of the range, those without conversations as zeros."""
    by_day = {entry["day"]: entry for entry in found}
    return [by_day.get(label) or day_figures(label, EMPTY) for label in labels]


async def _name_agents(agents: list[dict[str, Any]], span: ReportRange) -> None:
    """Each agent's name and messages sent in the range, and the agents who replied in it only
    to conversations opened before it."""
    sent = {row["agent_id"]: int(row["n"]) for row in
            await Sql().rows(AGENT_MESSAGES, since=span.since, until=span.until)}
    names = dict(await Agent.all().values_list("id", "name"))
    for index, entry in enumerate(agents):
        agent_id = entry.pop("agent_id")
        agents[index] = {"agent_id": agent_id, "agent": names.get(agent_id),
                         "messages_sent": sent.pop(agent_id, 0), **entry}
    for agent_id, count in sent.items():
        agents.append({"agent_id": agent_id, "agent": names.get(agent_id), "messages_sent": count,
                       **figures(EMPTY)})

"""The incidents plugin's writes, as plans for the core's one writer.

Counting holds with several instances on one PostgreSQL: a plan that counts a topic's askers or
changes its incident first upserts the topic's row, which locks it until the commit, topics in
one order (the cluster lock first, then by kind and key), so the count that follows sees every
ask committed before it; `Incident.open_key` is unique besides, so the store never holds two open
incidents of one topic whatever happens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from csgw.gateway.storage.plans import ExecuteMany, Insert, Plan, Select, json_value

from .models import CLUSTER_LOCK
from .topics import Ask, clusterable, nearest, question_form

ASK_COLUMNS = ("topic_id", "incident_id", "customer_id", "conversation_id", "text", "asked_at")
MAX_EXAMPLES = 5
EXAMPLES_READ = 200  # the first asks of an incident its examples and title are chosen from
NOTICES_PER_STATEMENT = 200

Outcome = str  # "published", "same" (that text already), "closed", "missing"


@dataclass(frozen=True, slots=True)
class Counting:
    """An ask to record, with its kind's threshold."""

    ask: Ask
    min_customers: int
    window_seconds: float
    at: datetime

    @property
    def since(self) -> datetime:
        return self.at - timedelta(seconds=self.window_seconds)


@dataclass(frozen=True, slots=True)
class Touched:
    """An incident an ask opened, or whose count of customers it raised."""

    incident_id: int
    opened: bool


def record_asks(items: list[Counting]) -> Plan[list[Touched | None]]:
    """Record the asks queued together; an incident they opened or grew is reported once, to the
    first of them that touched it (the others get None)."""
    keys = yield from _clusters(items)
    topics: dict[tuple[str, str], tuple[int, int | None]] = {}
    for key in sorted(set(keys)):
        topics[key] = yield from _lock_topic(key, max(item.at for item, k in zip(items, keys, strict=True) if k == key))
    first: dict[int, int] = {}  # incident -> the index of the first item counted in it
    opened: set[int] = set()
    counted: list[list[Any]] = []  # asks about an open incident: one insert at the end
    texts: dict[int, list[str]] = {}  # incident -> the texts of the asks counted in it here
    for index, (item, key) in enumerate(zip(items, keys, strict=True)):
        topic_id, incident_id = topics[key]
        ask = item.ask
        row = [topic_id, incident_id, ask.customer_id, ask.conversation_id, ask.text, item.at]
        if incident_id is None:  # each ask counted as it comes: the one reaching the threshold opens
            yield Insert("incident_ask", ASK_COLUMNS, [row])
            incident_id = yield from _open_if_due(topic_id, key, item)
            if incident_id is None:
                continue
            topics[key] = (topic_id, incident_id)
            opened.add(incident_id)
        else:
            counted.append(row)
        first.setdefault(incident_id, index)
        texts.setdefault(incident_id, []).append(ask.text)
    if counted:
        yield Insert("incident_ask", ASK_COLUMNS, counted)
    results: list[Touched | None] = [None] * len(items)
    for incident_id, index in first.items():
        last = max(item.at for item, key in zip(items, keys, strict=True) if topics[key][1] == incident_id)
        grew = yield from _recount(incident_id, last, incident_id in opened, texts[incident_id])
        if grew or incident_id in opened:
            results[index] = Touched(incident_id, incident_id in opened)
    return results


def _clusters(items: list[Counting]) -> Plan[list[tuple[str, str]]]:
    """Each item's topic; an unanswered question's is the cluster it is nearest to, else its own."""
    unanswered = [item for item in items if item.ask.kind == "unanswered"]
    clusters: list[str] = []
    if unanswered:
        yield from _lock_topic(CLUSTER_LOCK, max(item.at for item in unanswered))
        rows = yield Select('SELECT "key" FROM "incident_topic" WHERE "kind" = ? AND "key" <> ? '
                            'AND ("incident_id" IS NOT NULL OR "last_asked_at" >= ?) ORDER BY "id"',
                            [CLUSTER_LOCK[0], CLUSTER_LOCK[1], min(item.since for item in unanswered)])
        clusters = [row[0] for row in rows]
    keys = []
    for item in items:
        key = item.ask.key
        if item.ask.kind == "unanswered":
            key = nearest(key, clusters) or key
            if key not in clusters:
                clusters.append(key)
        keys.append((item.ask.kind, key))
    return keys


def _lock_topic(key: tuple[str, str], at: datetime) -> Plan[tuple[int, int | None]]:
    """The topic's row, created if new, locked until the commit: (id, open incident)."""
    rows = yield Select(
        'INSERT INTO "incident_topic" ("kind", "key", "last_asked_at") VALUES (?, ?, ?) '
        'ON CONFLICT ("kind", "key") DO UPDATE SET "last_asked_at" = excluded."last_asked_at" '
        'RETURNING "id", "incident_id"', [*key, at])
    return rows[0][0], rows[0][1]


def _open_if_due(topic_id: int, key: tuple[str, str], item: Counting) -> Plan[int | None]:
    """Open the topic's incident when enough distinct customers asked within the window (asks an
    earlier incident counted are its own: a closed one does not open again at once); its id."""
    [[customers]] = yield Select('SELECT COUNT(DISTINCT "customer_id") FROM "incident_ask" '
                                 'WHERE "topic_id" = ? AND "asked_at" >= ? AND "incident_id" IS NULL',
                                 [topic_id, item.since])
    if customers < item.min_customers:
        return None
    open_key = f"{key[0]}:{key[1]}"
    rows = yield Select(
        'INSERT INTO "incident" ("kind", "key", "title", "open_key", "customers", "examples", "opened_at", '
        '"last_asked_at", "revision") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) '
        'ON CONFLICT ("open_key") DO NOTHING RETURNING "id"',
        [*key, "", open_key, 0, [], item.at, item.at, 0])
    if not rows:  # the store already has it open: counted there
        rows = yield Select('SELECT "id" FROM "incident" WHERE "open_key" = ?', [open_key])
    incident_id: int = rows[0][0]
    yield ExecuteMany('UPDATE "incident_ask" SET "incident_id" = ? WHERE "topic_id" = ? AND "incident_id" IS NULL '
                      'AND "asked_at" >= ?', [[incident_id, topic_id, item.since]])
    yield ExecuteMany('UPDATE "incident_topic" SET "incident_id" = ? WHERE "id" = ?', [[incident_id, topic_id]])
    return incident_id


def _recount(incident_id: int, last: datetime, opened: bool, asked: list[str]) -> Plan[bool]:
    """Refresh the incident's count, examples (and title, when just opened); whether it grew.
    `asked`: the texts of the asks just counted in it, which fill examples still missing."""
    [[customers]] = yield Select('SELECT COUNT(DISTINCT "customer_id") FROM "incident_ask" WHERE "incident_id" = ?',
                                 [incident_id])
    [[before, stored]] = yield Select('SELECT "customers", "examples" FROM "incident" WHERE "id" = ?', [incident_id])
    examples: list[str] = json_value(stored) or []
    values: dict[str, Any] = {"customers": customers}
    if opened:  # the asks that opened it were stored before: its first ones
        rows = yield Select('SELECT "text" FROM "incident_ask" WHERE "incident_id" = ? ORDER BY "id" LIMIT ?',
                            [incident_id, EXAMPLES_READ])
        texts = _examples([row[0] for row in rows])
        values["examples"] = list(dict.fromkeys(texts))[:MAX_EXAMPLES]
        if texts:
            values["title"] = Counter(texts).most_common(1)[0][0]
    elif len(examples) < MAX_EXAMPLES:
        values["examples"] = list(dict.fromkeys([*examples, *_examples(dict.fromkeys(asked))]))[:MAX_EXAMPLES]
    sets = ", ".join(f'"{column}" = ?' for column in values)
    yield ExecuteMany(f'UPDATE "incident" SET {sets}, "last_asked_at" = CASE WHEN "last_asked_at" < ? THEN ? '
                      'ELSE "last_asked_at" END WHERE "id" = ?', [[*values.values(), last, last, incident_id]])
    return bool(customers > before)


def _examples(texts: Iterable[str]) -> list[str]:
    return [text for text in texts if clusterable(question_form(text))]


def close_plan(incident_id: int, at: datetime, reason: str, by: int | None = None,
               quiet_before: datetime | None = None) -> Plan[bool]:
    """Close an open incident (only if nobody asked since `quiet_before`, when given); whether it
    was this plan that closed it."""
    # the topic's row first: the order the asks' plan locks in
    yield ExecuteMany('UPDATE "incident_topic" SET "incident_id" = "incident_id" WHERE "incident_id" = ?',
                      [[incident_id]])
    quiet = ' AND "last_asked_at" < ?' if quiet_before is not None else ""
    rows = yield Select(f'UPDATE "incident" SET "closed_at" = ?, "open_key" = NULL, "close_reason" = ?, '
                        f'"closed_by" = ? WHERE "id" = ? AND "closed_at" IS NULL{quiet} RETURNING "id"',
                        [at, reason, by, incident_id, *([quiet_before] if quiet_before is not None else [])])
    if not rows:
        return False
    yield ExecuteMany('UPDATE "incident_topic" SET "incident_id" = NULL WHERE "incident_id" = ?', [[incident_id]])
    return True


def broadcast_plan(incident_id: int, text: str, by: int, at: datetime) -> Plan[tuple[Outcome, int]]:
    """Publish (or change) an open incident's broadcast: the outcome and the text's revision."""
    rows = yield Select(
        'UPDATE "incident" SET "broadcast" = ?, "broadcast_by" = ?, "broadcast_at" = COALESCE("broadcast_at", ?), '
        '"revision" = "revision" + 1 WHERE "id" = ? AND "closed_at" IS NULL '
        'AND ("broadcast" IS NULL OR "broadcast" <> ?) RETURNING "revision"', [text, by, at, incident_id, text])
    if rows:
        return "published", rows[0][0]
    rows = yield Select('SELECT "closed_at", "revision" FROM "incident" WHERE "id" = ?', [incident_id])
    if not rows:
        return "missing", 0
    return ("closed" if rows[0][0] is not None else "same"), rows[0][1]


def notice_plan(incident_id: int, revision: int, at: datetime, conversation_ids: list[int] | None = None
                ) -> Plan[list[int]]:
    """Record that a broadcast revision goes to conversations (by default: every open one counted
    in the incident); the ones it had not gone to yet, which are to be sent it now."""
    if conversation_ids is None:
        rows = yield Select('SELECT DISTINCT a."conversation_id" FROM "incident_ask" a JOIN "conversation" c '
                            'ON c."id" = a."conversation_id" WHERE a."incident_id" = ? AND c."state" <> ?',
                            [incident_id, "closed"])
        conversation_ids = sorted(row[0] for row in rows)
    fresh: list[int] = []
    for chunk in _chunks(conversation_ids, NOTICES_PER_STATEMENT):
        values = ", ".join("(?, ?, ?, ?)" for _ in chunk)
        rows = yield Select(
            f'INSERT INTO "incident_notice" ("incident_id", "conversation_id", "revision", "sent_at") VALUES {values} '
            'ON CONFLICT ("incident_id", "conversation_id", "revision") DO NOTHING RETURNING "conversation_id"',
            [value for ident in chunk for value in (incident_id, ident, revision, at)])
        fresh.extend(row[0] for row in rows)
    return sorted(fresh)


def prune_plan(asks_before: datetime, closed_before: datetime) -> Plan[None]:
    """Forget asks no window reaches that no incident counted, topics asked about only then, and
    the asks and notices of incidents closed before `closed_before` (the incidents stay)."""
    yield ExecuteMany('DELETE FROM "incident_ask" WHERE "incident_id" IS NULL AND "asked_at" < ?', [[asks_before]])
    yield ExecuteMany('DELETE FROM "incident_topic" WHERE "incident_id" IS NULL AND "last_asked_at" < ?',
                      [[asks_before]])
    for table in ("incident_ask", "incident_notice"):
        yield ExecuteMany(f'DELETE FROM "{table}" WHERE "incident_id" IN '
                          '(SELECT "id" FROM "incident" WHERE "closed_at" < ?)', [[closed_before]])


def _chunks(values: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]

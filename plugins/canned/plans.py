"""The canned-replies plugin's writes, as plans for the gateway's one writer."""

from __future__ import annotations

from typing import Any, Literal

from csgw.gateway.clock import now
from csgw.gateway.storage.plans import ExecuteMany, Insert, Plan, Select, update_row

Outcome = Literal["saved", "missing", "taken"]
COLUMNS = ("title", "shortcut", "text", "group", "updated_by")


def _taken(values: dict[str, Any], other_than: int | None) -> Plan[bool]:
    rows = yield Select('SELECT "id" FROM "canned_reply" WHERE "group" = ? AND "shortcut" = ?',
                        [values["group"], values["shortcut"]])
    return any(row[0] != other_than for row in rows)


def create_plan(values: dict[str, Any]) -> Plan[tuple[Outcome, int | None]]:
    """A new reply; refused ("taken") when its group already has the shortcut."""
    if (yield from _taken(values, None)):
        return "taken", None
    at = now()
    [ident] = yield Insert("canned_reply", (*COLUMNS, "created_at", "updated_at"),
                           [[*(values[c] for c in COLUMNS), at, at]])
    return "saved", int(ident)


def update_plan(ident: int, values: dict[str, Any]) -> Plan[Outcome]:
    rows = yield Select('SELECT "id" FROM "canned_reply" WHERE "id" = ?', [ident])
    if not rows:
        return "missing"
    if (yield from _taken(values, ident)):
        return "taken"
    yield from update_row("canned_reply", ident, {**{c: values[c] for c in COLUMNS}, "updated_at": now()})
    return "saved"


def delete_plan(ident: int) -> Plan[bool]:
    rows = yield Select('SELECT "id" FROM "canned_reply" WHERE "id" = ?', [ident])
    if not rows:
        return False
    yield ExecuteMany('DELETE FROM "canned_reply" WHERE "id" = ?', [[ident]])
    return True

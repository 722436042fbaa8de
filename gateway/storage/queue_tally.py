"""How many conversations wait in each group and priority, kept by the database itself.

A customer's place in line is the number of queued conversations going first. Counted through the
queue's index, that count read every entry before the customer: a hand-over with 10,000 waiting
read 10,000 index entries (twice per batch of hand-overs, once per hand-over in it). `queue_tally`
holds the count per group and priority, kept by triggers on `conversation` in the transaction that
queues, takes, moves, closes or deletes a conversation, whoever writes it (any instance, any code
path). A new arrival, the newest of its priority, then counts only the tallies and the few entries
queued after it (`AssignmentView.read_places`).

A conversation with no group is tallied under the key '' and one of group `g` under '=' || g, so
no group name can share a tally with no group.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

TALLY = "queue_tally"


def tally_key(group: str | None) -> str:
    """The tally's key for `group` (as `_KEY` computes it in SQL)."""
    return "" if group is None else "=" + group


def _key(row: str) -> str:
    return f"COALESCE('=' || {row}.\"group\", '')"


_TABLE = (f'CREATE TABLE IF NOT EXISTS "{TALLY}" ("group_key" TEXT NOT NULL, "priority" INT NOT NULL, '
          '"waiting" INT NOT NULL, PRIMARY KEY ("group_key", "priority"))')

_RECOUNT = (f'DELETE FROM "{TALLY}"; INSERT INTO "{TALLY}" ("group_key", "priority", "waiting") '
            f'SELECT {_key("c")}, c."priority", COUNT(*) FROM "conversation" c WHERE c."state" = \'queued\' '
            'GROUP BY 1, 2')


_WAS_QUEUED, _IS_QUEUED = """OLD."state" = 'queued'""", """NEW."state" = 'queued'"""


def _sqlite_joins(row: str, when: str = "1") -> str:
    """`row` (NEW) counted in its tally, made first if missing."""
    return (f'INSERT OR IGNORE INTO "{TALLY}" ("group_key", "priority", "waiting") '
            f'SELECT {_key(row)}, {row}."priority", 0 WHERE {when}; '
            f'UPDATE "{TALLY}" SET "waiting" = "waiting" + 1 WHERE {when} AND {_matching(row)};')


def _sqlite_leaves(row: str, when: str = "1") -> str:
    """`row` (OLD) no longer counted in its tally."""
    return f'UPDATE "{TALLY}" SET "waiting" = "waiting" - 1 WHERE {when} AND {_matching(row)};'


def _matching(row: str) -> str:
    return f'"group_key" = {_key(row)} AND "priority" = {row}."priority"'


_SQLITE_TRIGGERS = f"""
CREATE TRIGGER IF NOT EXISTS "queue_tally_insert" AFTER INSERT ON "conversation"
WHEN NEW."state" = 'queued' BEGIN {_sqlite_joins("NEW")} END;
CREATE TRIGGER IF NOT EXISTS "queue_tally_delete" AFTER DELETE ON "conversation"
WHEN OLD."state" = 'queued' BEGIN {_sqlite_leaves("OLD")} END;
CREATE TRIGGER IF NOT EXISTS "queue_tally_update" AFTER UPDATE OF "state", "group", "priority" ON "conversation"
WHEN (OLD."state" = 'queued' OR NEW."state" = 'queued')
 AND NOT (OLD."state" IS NEW."state" AND OLD."group" IS NEW."group" AND OLD."priority" IS NEW."priority")
BEGIN {_sqlite_leaves("OLD", _WAS_QUEUED)} {_sqlite_joins("NEW", _IS_QUEUED)} END;
"""

_POSTGRES_TRIGGER = f"""
CREATE OR REPLACE FUNCTION "csgw_queue_tally"() RETURNS trigger LANGUAGE plpgsql AS $tally$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD."state" IS NOT DISTINCT FROM NEW."state" AND OLD."group" IS NOT DISTINCT FROM NEW."group"
     AND OLD."priority" IS NOT DISTINCT FROM NEW."priority" THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD."state" = 'queued' THEN
    UPDATE "{TALLY}" SET "waiting" = "waiting" - 1 WHERE {_matching("OLD")};
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW."state" = 'queued' THEN
    INSERT INTO "{TALLY}" ("group_key", "priority", "waiting") VALUES ({_key("NEW")}, NEW."priority", 1)
    ON CONFLICT ("group_key", "priority") DO UPDATE SET "waiting" = "{TALLY}"."waiting" + 1;
  END IF;
  RETURN NULL;
END
$tally$;
DROP TRIGGER IF EXISTS "queue_tally" ON "conversation";
CREATE TRIGGER "queue_tally" AFTER INSERT OR DELETE OR UPDATE OF "state", "group", "priority" ON "conversation"
FOR EACH ROW EXECUTE FUNCTION "csgw_queue_tally"();
"""


async def create_queue_tally(connection: BaseDBAsyncClient) -> None:
    """The tally table and its triggers, and the tally counted afresh from the queue as stored."""
    triggers = _SQLITE_TRIGGERS if connection.capabilities.dialect == "sqlite" else _POSTGRES_TRIGGER
    await connection.execute_script(f"{_TABLE}; {triggers}; {_RECOUNT};")

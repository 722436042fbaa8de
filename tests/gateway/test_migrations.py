"""Schema versions: a fresh store starts at the newest; an older one runs only the steps it lacks."""

from __future__ import annotations

import pytest

from csgw.gateway import migrations
from csgw.gateway.db import close_database, current_connection, open_database
from csgw.gateway.models import SchemaVersion


async def test_fresh_database_starts_at_the_newest_version(database_url):
    await open_database(database_url)
    try:
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
    finally:
        await close_database()


async def test_an_older_database_runs_the_missing_steps_once(database_url, monkeypatch):
    await open_database(database_url)
    await close_database()
    applied = []

    async def add_column(connection):
        applied.append(True)
        await connection.execute_script('ALTER TABLE "agent" ADD COLUMN "nickname" VARCHAR(32)')

    monkeypatch.setattr(migrations, "STEPS", [*migrations.STEPS, add_column])
    await open_database(database_url)
    try:
        assert applied == [True]
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
        await current_connection().execute_query('SELECT "nickname" FROM "agent"')
    finally:
        await close_database()
    await open_database(database_url)  # already at the newest: nothing runs again
    await close_database()
    assert applied == [True]


async def test_a_newer_database_is_refused(database_url, monkeypatch):
    await open_database(database_url)
    await SchemaVersion.filter(id=1).update(version=len(migrations.STEPS) + 5)
    await close_database()
    with pytest.raises(RuntimeError, match="newer than this csgw"):
        await open_database(database_url)
    await close_database()

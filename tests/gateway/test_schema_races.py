"""Several instances opening one PostgreSQL store at the same instant: real processes, each with
its own connections, released together once all are connected. Every one starts; the schema is
created (or each missing step run) by exactly one of them, and the version is recorded once."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path

import asyncpg
import pytest

from csgw.gateway.storage import migrations
from csgw.gateway.storage.db import close_database, current_connection, open_database
from tests.conftest import POSTGRES_URL
from tests.scratch_postgres import scratch_postgres

INSTANCES = 3
ROOT = Path(__file__).parents[2]

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs CSGW_TEST_POSTGRES_URL")


@pytest.fixture
async def store_url():
    async with scratch_postgres("csgw_h16_schema") as url:
        yield url


async def start_together(url: str, *flags: str) -> list[list[dict]]:
    """Start INSTANCES starters, release them at once when all are connected; each one's log events."""
    processes = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.gateway.schema_starter", url, *flags, cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        for _ in range(INSTANCES)]
    try:
        for process in processes:
            assert process.stdout is not None
            assert await asyncio.wait_for(process.stdout.readline(), 60) == b"ready\n"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write(b"go\n")
        await asyncio.gather(*(process.stdin.drain() for process in processes if process.stdin))
        outputs = await asyncio.wait_for(asyncio.gather(*(process.communicate() for process in processes)), 90)
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr.decode()[-3000:]
    return [json.loads(stdout.decode().splitlines()[-1]) for stdout, _ in outputs]


async def recorded_versions(url: str) -> list[int]:
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return [row["version"] for row in await connection.fetch('SELECT "version" FROM "csgw_schema_version"')]
    finally:
        await connection.close()


def count(logs: list[list[dict]], event: str) -> Counter:
    return Counter(entry["version"] for events in logs for entry in events if entry["event"] == event)


async def test_instances_starting_together_on_an_empty_store_create_it_once(store_url):
    logs = await start_together(store_url, "--plugins")
    assert sum(count(logs, "schema created").values()) == 1
    assert await recorded_versions(store_url) == [len(migrations.STEPS)]


async def test_instances_starting_together_on_an_older_store_run_each_step_once(store_url):
    await open_database(store_url)
    try:  # as csgw at version 6 left it: no outbox claims (step 7), no bus spill table (step 8)
        await current_connection().execute_script(
            'ALTER TABLE "outbox" DROP COLUMN "claimed_by"; ALTER TABLE "outbox" DROP COLUMN "claimed_until"; '
            'DROP TABLE "bus_spill"; UPDATE "csgw_schema_version" SET "version" = 6')
    finally:
        await close_database()
    newest = len(migrations.STEPS) + 1  # the starters add a step that fails if run twice
    logs = await start_together(store_url, "--extra-step")
    assert count(logs, "schema upgraded") == Counter(range(7, newest + 1))
    assert await recorded_versions(store_url) == [newest]


async def test_instances_starting_together_create_a_plugins_missing_tables_once(store_url):
    await open_database(store_url)  # the core's tables only
    await close_database()
    logs = await start_together(store_url, "--plugins")
    assert sum(1 for events in logs for entry in events if entry["event"] == "plugin tables created") == 1

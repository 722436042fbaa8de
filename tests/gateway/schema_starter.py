"""One process opening a store at a signal, so several can start at the same instant
(tests/gateway/test_schema_races.py).

    python -m tests.gateway.schema_starter URL [--plugins] [--extra-step]

Connects, writes "ready", waits for a line on stdin, then creates or upgrades the schema as
`open_database` does and writes the log events of that as one JSON line. `--plugins` adds the
knowledge-base plugin's tables; `--extra-step` appends a schema step that fails if run twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from structlog.testing import capture_logs
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

from csgw.gateway.storage import migrations
from csgw.gateway.storage.db import current_connection, tortoise_config
from csgw.plugins.reply.models import APP


async def add_nickname(connection: BaseDBAsyncClient) -> None:
    """Not idempotent: a second run fails with "column already exists"."""
    await connection.execute_script('ALTER TABLE "agent" ADD COLUMN "nickname" VARCHAR(32)')


async def main(url: str, plugins: bool, extra_step: bool) -> None:
    models = APP if plugins else {}
    if extra_step:
        migrations.STEPS.append(add_nickname)
    await Tortoise.init(config=tortoise_config(url, models), _enable_global_fallback=True)
    await current_connection().execute_query("SELECT 1")  # the pool is connected before the signal
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    try:
        with capture_logs() as events:
            await migrations.upgrade_schema()
            await migrations.create_plugin_tables(models)
    finally:
        await Tortoise.close_connections()
    sys.stdout.write(json.dumps([{"event": e["event"], "version": e.get("version")} for e in events]) + "\n")


if __name__ == "__main__":
    arguments = argparse.ArgumentParser()
    arguments.add_argument("url")
    arguments.add_argument("--plugins", action="store_true")
    arguments.add_argument("--extra-step", action="store_true")
    options = arguments.parse_args()
    asyncio.run(main(options.url, options.plugins, options.extra_step))

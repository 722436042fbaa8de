"""Opening and closing the store: tortoise init, SQLite pragmas, schema creation and upgrades."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import structlog
from tortoise import Tortoise, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url

from csgw.gateway.storage.migrations import create_plugin_tables, upgrade_schema
from csgw.gateway.storage.plans import SqliteBatchRunner
from csgw.gateway.storage.writer import OrmPlanRunner, PlanRunner

log = structlog.get_logger(__name__)

MODELS_MODULE = "csgw.gateway.models"


def tortoise_config(url: str, plugin_models: Mapping[str, Sequence[str]] | None = None) -> dict:
    """Expand a database URL; SQLite gets WAL and full fsync, since an ack promises durability."""
    connection = expand_db_url(url)
    if connection["engine"].endswith("sqlite"):
        credentials = connection["credentials"]
        credentials.setdefault("journal_mode", "WAL")
        credentials.setdefault("synchronous", "FULL")
        credentials.setdefault("busy_timeout", 5000)
        credentials.setdefault("foreign_keys", "OFF")
        file_path = credentials.get("file_path", "")
        if file_path and file_path != ":memory:":
            Path(file_path).parent.mkdir(parents=True, exist_ok=True)
    # Named by engine: tortoise caches compiled SQL per connection name, and a test run (or a
    # migration tool) may open SQLite and PostgreSQL one after the other in one process.
    name = connection_name(url)
    apps = {"csgw": {"models": [MODELS_MODULE], "default_connection": name}}
    for plugin, modules in (plugin_models or {}).items():
        apps[plugin] = {"models": list(modules), "default_connection": name}
    return {
        "connections": {name: connection},
        "apps": apps,
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_database(url: str, plugin_models: Mapping[str, Sequence[str]] | None = None) -> None:
    """Open the store with the core's models and each plugin's (plugin name -> model modules)."""
    await Tortoise.init(config=tortoise_config(url, plugin_models), _enable_global_fallback=True)
    await upgrade_schema()
    await create_plugin_tables(plugin_models or {})
    log.info("database ready", engine=url.split(":", 1)[0])


async def close_database() -> None:
    await Tortoise.close_connections()


def plan_runner(url: str) -> PlanRunner:
    """How the writer runs its batch plans: on SQLite its own connection and thread."""
    connection = tortoise_config(url)["connections"][connection_name(url)]
    credentials = dict(connection["credentials"])
    path = credentials.pop("file_path", "")
    if not is_sqlite(url) or not path or path == ":memory:":
        return OrmPlanRunner()
    return SqliteBatchRunner(path, credentials)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def connection_name(url: str) -> str:
    return "sqlite" if is_sqlite(url) else "postgres"


def current_connection() -> BaseDBAsyncClient:
    """The one open connection (pool)."""
    return connections.all()[0]

"""Several real `csgw serve` processes on one PostgreSQL (skipped without CSGW_TEST_POSTGRES_URL,
which CI sets): the instances a load balancer would spread visitors and agents over."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from csgw.gateway.storage.db import close_database, open_database
from csgw.plugins.demo import DEMO_KB
from tests.cli.server_process import ServerProcess
from tests.conftest import POSTGRES_URL, reset_postgres

VISITOR_MESSAGES_PER_MINUTE = 4  # counted for the cluster, wherever the visitor's sockets are


def cluster_config(directory: Path, extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "csgw.toml"
    path.write_text(
        f'[server]\ndata_dir = "./data"\n[database]\nurl = "{POSTGRES_URL}"\noutbox_lease_seconds = 5\n'
        '[logging]\nformat = "json"\n[[channels]]\nplugin = "webchat"\naccount = "default"\n'
        f'messages_per_minute = {VISITOR_MESSAGES_PER_MINUTE}\n[reply]\nknowledge_base = "{DEMO_KB}"\n' + extra,
        encoding="utf-8")
    return path


@asynccontextmanager
async def three_instances(directory: Path, extra: str = "") -> AsyncIterator[list[ServerProcess]]:
    """Three `csgw serve` processes on one fresh store, stopped (killed if need be) afterwards."""
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    servers = [ServerProcess(cluster_config(directory / name, extra)) for name in ("a", "b", "c")]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(params=["postgres"] if POSTGRES_URL else [])
async def cluster(request, tmp_path) -> AsyncIterator[list[ServerProcess]]:
    """Three instances; the test process opens their store too, to seed and to check."""
    async with three_instances(tmp_path) as servers:
        assert POSTGRES_URL
        await open_database(POSTGRES_URL)
        try:
            yield servers
        finally:
            await close_database()

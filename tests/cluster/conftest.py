"""Several real `csgw serve` processes on one PostgreSQL (skipped without CSGW_TEST_POSTGRES_URL,
which CI sets): the instances a load balancer would spread visitors and agents over."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from csgw.gateway.storage.db import close_database, open_database
from csgw.plugins.demo import DEMO_KB
from tests.cli.server_process import ServerProcess
from tests.conftest import POSTGRES_URL, reset_postgres


def cluster_config(directory: Path, extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "csgw.toml"
    path.write_text(
        f'[server]\ndata_dir = "./data"\n[database]\nurl = "{POSTGRES_URL}"\noutbox_lease_seconds = 5\n'
        '[logging]\nformat = "json"\n[[channels]]\nplugin = "webchat"\naccount = "default"\n'
        f'messages_per_minute = 10000\n[reply]\nknowledge_base = "{DEMO_KB}"\n' + extra,
        encoding="utf-8")
    return path


@pytest.fixture(params=["postgres"] if POSTGRES_URL else [])
async def cluster(request, tmp_path) -> AsyncIterator[list[ServerProcess]]:
    """Three instances on one fresh store; the test process opens it too, to seed and to check."""
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    await open_database(POSTGRES_URL)
    servers = [ServerProcess(cluster_config(tmp_path / name)) for name in ("a", "b", "c")]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()
        await close_database()

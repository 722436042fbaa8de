"""Shared fixtures: database URLs (SQLite always, PostgreSQL when CSGW_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os

import pytest

from csgw.plugins.demo import DEMO_KB
from csgw.testing import use_default_sections

POSTGRES_URL = os.environ.get("CSGW_TEST_POSTGRES_URL")
DATABASES = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])

# Every gateway this suite starts answers from the demo shop, on words only unless a test asks
# for the model (each start would otherwise embed the demo KB).
use_default_sections(reply={"knowledge_base": str(DEMO_KB), "engine": {"model": "off"}})


async def reset_postgres(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(params=DATABASES)
async def database_url(request, tmp_path) -> str:
    """A fresh, empty database of each kind the run covers."""
    if request.param == "postgres":
        await reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite://{tmp_path}/csgw.db"


@pytest.fixture(params=["postgres"] if POSTGRES_URL else [])
async def shared_url(request) -> str:
    """A fresh PostgreSQL: the only store several instances share (no test without one)."""
    assert POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
    return POSTGRES_URL

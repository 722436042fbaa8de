"""Playing several gateway instances on one PostgreSQL inside one test process."""

from __future__ import annotations

import asyncio

from csgw.gateway.storage.pg_connect import dedicated_connection
from csgw.gateway.storage.pg_leadership import PostgresLeadership
from tests.conftest import POSTGRES_URL


async def end_session(leadership: PostgresLeadership) -> None:
    """What PostgreSQL does when an instance's process dies: end its session, freeing its locks
    (pg_terminate_backend with a timeout returns once the backend is gone)."""
    assert POSTGRES_URL and leadership.server_pid is not None
    # bounded: a stuck connect or close fails here, where it hangs, not at the test's timeout
    async with asyncio.timeout(20):
        connection = await dedicated_connection(POSTGRES_URL)
        try:
            assert await connection.fetchval("SELECT pg_terminate_backend($1, 5000)", leadership.server_pid)
        finally:
            await connection.close()

"""One assignment at a time across every instance on a shared PostgreSQL store.

In one process the conversation service's asyncio lock makes "read the agents' loads and the
queue, decide, write the assignment and commit it" one critical section, so an agent's capacity
holds and a queued conversation is handed out once. Instances sharing one database need the same
section across processes: `ClusterAssignmentLock.held()` takes the session advisory lock
`ASSIGNMENT_LOCK_KEY` for the section, on a connection of its own, and releases it once the write
has committed (the section's writes go through the writer and return only after their COMMIT).
The next holder, on any instance, then reads the committed assignment.

Why a session lock on a connection of its own, not `pg_advisory_xact_lock` in the writer's
transaction: the decision reads (loads, the queue, the assigners' own queries) run on tortoise's
pool before the writer's transaction begins, and the writer commits many jobs together, so no one
transaction spans the decision and its write. The in-process lock is taken first, so only one task
of the instance ever uses the connection, and one lock per instance is waited for at a time.

A statement cut short (cancelled, timed out, the link broken) may have left the lock taken unknown
to us: the connection is then terminated, which ends the session and frees its locks, and the next
section opens a new one. A dead instance's lock dies with its session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import structlog

from csgw.gateway.storage.pg_leadership import lock_session

log = structlog.get_logger(__name__)

# The ASCII bytes of "csgw-asg" as a signed bigint: 7166185193636721511 (like the schema lock's
# "csgw-ddl"; leadership keys are SHA-256 prefixes of "csgw-leader:<role>", so they never meet it).
ASSIGNMENT_LOCK_KEY = int.from_bytes(b"csgw-asg", "big", signed=True)


class ClusterAssignmentLock:
    """The assignment section's advisory lock, taken on one connection kept for the instance's life."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout  # to connect; waiting for the lock itself is not bounded
        self._connection: asyncpg.Connection | None = None
        self.waited = 0  # sections that found the lock held by another session

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """Hold the lock for the block. The caller serialises the instance's own sections."""
        connection = await self._connected()
        try:
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", ASSIGNMENT_LOCK_KEY):
                self.waited += 1
                await connection.execute("SELECT pg_advisory_lock($1)", ASSIGNMENT_LOCK_KEY)
        except BaseException:
            self._drop()
            raise
        try:
            yield
        finally:
            try:
                await connection.execute("SELECT pg_advisory_unlock($1)", ASSIGNMENT_LOCK_KEY)
            except BaseException:
                self._drop()
                raise

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            try:
                await asyncio.wait_for(connection.close(), self.timeout)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                connection.terminate()

    async def _connected(self) -> asyncpg.Connection:
        if self._connection is not None and not self._connection.is_closed():
            return self._connection
        connection = await lock_session(self.url, "csgw assignment", self.timeout)
        self._connection = connection
        return connection

    def _drop(self) -> None:
        """Not sure whether the lock is held: end the session, which frees it."""
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            log.warning("assignment lock connection dropped")
            connection.terminate()

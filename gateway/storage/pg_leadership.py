"""Leadership over PostgreSQL: one session advisory lock per role, on a connection of its own.

`pg_try_advisory_lock(key)` never waits: it takes the lock, or says another session holds it.
A session lock lives as long as the session, so every lock is taken on one connection held for
the process's life; when the process dies (even by SIGKILL) the connection closes and
PostgreSQL frees its locks. A session taking a lock it already holds stacks it (it would need
two unlocks), so the roles held are tracked here and never locked twice.

If the connection drops, every role goes with it at once: they are all marked lost, and the
next try opens a new connection. A role held is re-checked with a round trip on each try, and
the session asks the server to probe the client (TCP keepalives), so a link that hangs is
noticed from both ends within about the same time.
"""

from __future__ import annotations

import asyncio
import hashlib

import asyncpg
import structlog

from csgw.gateway.storage.pg_connect import dedicated_connection

log = structlog.get_logger(__name__)

ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
# The server notices a client gone silent after idle + interval * count seconds and ends its session.
KEEPALIVES = ("SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3")


async def lock_session(url: str, application_name: str, timeout: float) -> asyncpg.Connection:
    """A connection of its own to hold session advisory locks on, named for `pg_stat_activity`
    and probed by the server (TCP keepalives), so a client gone silent loses its locks."""
    connection = await asyncio.wait_for(dedicated_connection(url), timeout)
    try:
        await asyncio.wait_for(connection.execute(f"SET application_name = '{application_name}'; {KEEPALIVES}"),
                               timeout)
    except BaseException:
        connection.terminate()
        raise
    return connection


def role_key(role: str) -> int:
    """The advisory lock key of a role: stable across processes and versions (a signed bigint)."""
    digest = hashlib.sha256(f"csgw-leader:{role}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresLeadership:
    shared = True

    def __init__(self, url: str, *, retry_seconds: float = 5.0, instance: str = "",
                 timeout: float = 5.0) -> None:
        self.url = url
        self.retry_seconds = retry_seconds
        self.instance = instance
        self.timeout = timeout
        self._connection: asyncpg.Connection | None = None
        self._held: dict[str, asyncio.Event] = {}  # role -> set once it is lost or handed back
        self._lock = asyncio.Lock()  # one statement at a time on the one connection
        self._stopped = False
        self.refused = 0  # tries that found the role led by another instance

    @property
    def server_pid(self) -> int | None:
        """The backend process of the connection holding the locks (for operators and tests)."""
        connection = self._connection
        return None if connection is None or connection.is_closed() else connection.get_server_pid()

    def leads(self, role: str) -> bool:
        return role in self._held

    def held(self) -> list[str]:
        return sorted(self._held)

    async def try_lead(self, role: str) -> bool:
        async with self._lock:
            if self._stopped:
                return False
            try:
                connection = await self._connected()
                if role in self._held:
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), self.timeout)
                    return True
                taken = await asyncio.wait_for(
                    connection.fetchval("SELECT pg_try_advisory_lock($1)", role_key(role)), self.timeout)
            except ERRORS as error:
                # A lock taken by a statement cut short would be held unknown to us: the drop frees it.
                self._drop(repr(error))
                return False
            if not taken:
                self.refused += 1
                return False
            self._held[role] = asyncio.Event()
            log.info("leadership taken", role=role, instance=self.instance)
            return True

    async def lost(self, role: str) -> None:
        event = self._held.get(role)
        if event is not None:
            await event.wait()

    async def resign(self, role: str) -> None:
        async with self._lock:
            event = self._held.pop(role, None)
            if event is None:
                return
            event.set()
            assert self._connection is not None  # roles are held only while it is open
            try:
                await asyncio.wait_for(
                    self._connection.fetchval("SELECT pg_advisory_unlock($1)", role_key(role)), self.timeout)
            except ERRORS as error:
                self._drop(repr(error))
                return
            log.info("leadership handed back", role=role, instance=self.instance)

    async def stop(self) -> None:
        """Hand back every role: closing the session frees its locks."""
        async with self._lock:
            self._stopped = True
            connection, self._connection = self._connection, None
            self._release_all()
            if connection is not None and not connection.is_closed():
                try:
                    await asyncio.wait_for(connection.close(), self.timeout)
                except ERRORS:
                    connection.terminate()

    async def _connected(self) -> asyncpg.Connection:
        if self._connection is not None and not self._connection.is_closed():
            return self._connection
        self._drop("connection closed")  # what was held went with the old session
        connection = await lock_session(self.url, "csgw leadership", self.timeout)
        connection.add_termination_listener(self._terminated)
        self._connection = connection
        return connection

    def _terminated(self, connection: asyncpg.Connection) -> None:
        if connection is self._connection:
            self._drop("connection closed by the server")

    def _drop(self, reason: str) -> None:
        """The session is gone or no longer trusted: every role is lost at once."""
        connection, self._connection = self._connection, None
        roles = self._release_all()
        if roles:
            log.warning("leadership lost", roles=roles, reason=reason, instance=self.instance)
        if connection is not None and not connection.is_closed():
            connection.terminate()

    def _release_all(self) -> list[str]:
        held, self._held = self._held, {}
        for event in held.values():
            event.set()
        return sorted(held)

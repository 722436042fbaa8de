"""One serving process per SQLite file: `csgw serve` holds an OS lock on `<file>.lock` for its life.

SQLite is the embedded, single-process store: two gateways serving one file would each run an
outbox, timers and caches of their own and fight over the write lock. A second `csgw serve` on
the same file therefore refuses to start. The lock is `flock` on a file beside the database:
the kernel releases it when the process ends however it ends (SIGKILL included), so a stale lock
never blocks a restart. The lock file is left in place: removing it would let a starting process
lock a new file while a running one still holds the old.

Only `csgw serve` takes it. The offline commands that run beside a serving gateway on the same
file (`csgw agents …`, `csgw kb import`, `csgw conversations import`) do not; they wait for
SQLite's write lock as before.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog
from tortoise.backends.base.config_generator import expand_db_url

log = structlog.get_logger(__name__)


class StoreInUse(RuntimeError):
    """Another process serves this SQLite file."""

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        by = f" (pid {holder})" if holder else ""
        super().__init__(f"{path} is already served by another csgw serve{by}: SQLite is single-process; "
                         "to run several instances, use PostgreSQL ([database] url = \"postgres://…\")")


def sqlite_file(url: str) -> Path | None:
    """The database file of a `sqlite://` URL; None for PostgreSQL or an in-memory store."""
    if not url.startswith("sqlite"):
        return None
    path = expand_db_url(url)["credentials"].get("file_path", "")
    return Path(path) if path and path != ":memory:" else None


@contextmanager
def sole_sqlite_server(url: str) -> Iterator[None]:
    """Hold the serving lock of the store's SQLite file while the block runs (nothing for
    PostgreSQL); raises `StoreInUse` at once when another process holds it."""
    path = sqlite_file(url)
    if path is None:
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreInUse(path, os.pread(descriptor, 32, 0).decode(errors="replace").strip()) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)  # who holds it, for the refusal above
        log.debug("sqlite file held", path=str(path))
        yield
    finally:
        os.close(descriptor)  # releases the lock

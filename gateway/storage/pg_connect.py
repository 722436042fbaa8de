"""A connection of one's own to the PostgreSQL store, beside tortoise's pool: for what must stay
on one session for the process's life (LISTEN, session advisory locks)."""

from __future__ import annotations

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

CREDENTIALS = ("host", "port", "user", "password", "database")


async def dedicated_connection(url: str) -> asyncpg.Connection:
    """Connect with the credentials of the store's URL (its pool options are tortoise's, not ours)."""
    credentials = expand_db_url(url)["credentials"]
    return await asyncpg.connect(**{key: credentials[key] for key in CREDENTIALS if credentials.get(key) is not None})

"""Plugins' own tables: created when missing, left alone (and unlocked) when present."""

from __future__ import annotations

import sqlite3

from csgw.gateway.models import Agent
from csgw.gateway.storage.db import close_database, current_connection, open_database
from csgw.plugins.reply.models import APP, KnowledgeEntry


async def tables() -> set[str]:
    connection = current_connection()
    if connection.capabilities.dialect == "sqlite":
        rows = await connection.execute_query_dict("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = await connection.execute_query_dict(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()")
    return {row["name"] for row in rows}


async def opened_at_indexes() -> int:
    connection = current_connection()
    if connection.capabilities.dialect == "sqlite":
        names = [row["name"] for row in await connection.execute_query_dict("PRAGMA index_list('conversation')")]
        columns = [[c["name"] for c in await connection.execute_query_dict(f"PRAGMA index_info('{name}')")]
                   for name in names]
        return sum(1 for cols in columns if cols == ["opened_at"])
    rows = await connection.execute_query_dict(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'conversation' AND indexdef LIKE '%(opened_at)'")
    return len(rows)


async def test_the_core_alone_has_no_knowledge_tables_and_a_plugin_brings_its_own(database_url):
    await open_database(database_url)
    try:
        assert not {"knowledge_entry", "knowledge_proposal"} & await tables()
        await Agent.create(name="lin", display_name="Lin")
    finally:
        await close_database()

    await open_database(database_url, APP)
    try:
        assert {"knowledge_entry", "knowledge_proposal"} <= await tables()
        await KnowledgeEntry.create(key="returns", question="怎么退货", answer="七天无理由退货")
        assert await Agent.filter(name="lin").exists()  # the core's rows are untouched
        assert await opened_at_indexes() == 1  # creating the plugin's tables adds no twin index
    finally:
        await close_database()

    await open_database(database_url, APP)  # present now: nothing is created again
    try:
        assert (await KnowledgeEntry.get(key="returns")).answer == "七天无理由退货"
    finally:
        await close_database()


async def test_a_store_with_every_table_opens_while_another_process_writes(tmp_path):
    url = f"sqlite://{tmp_path}/csgw.db"
    await open_database(url, APP)
    await close_database()
    other = sqlite3.connect(tmp_path / "csgw.db", timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")  # holds the write lock, as an import in progress does
        await open_database(url, APP)
        try:
            assert await KnowledgeEntry.all().count() == 0
        finally:
            await close_database()
    finally:
        other.rollback()
        other.close()

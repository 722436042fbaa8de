"""Schema versions: a fresh store starts at the newest; an older one runs only the steps it lacks."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs
from tortoise.exceptions import IntegrityError

from csgw.gateway.clock import now
from csgw.gateway.models import (
    Agent,
    AgentSession,
    Conversation,
    ConversationTag,
    LoginCode,
    Message,
    SchemaVersion,
)
from csgw.gateway.storage import migrations
from csgw.gateway.storage.db import close_database, current_connection, open_database
from csgw.gateway.storage.open_conversations import OPEN_CONVERSATION_INDEX


async def test_fresh_database_starts_at_the_newest_version(database_url):
    await open_database(database_url)
    try:
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
    finally:
        await close_database()


async def test_an_older_database_runs_the_missing_steps_once(database_url, monkeypatch):
    await open_database(database_url)
    await close_database()
    applied = []

    async def add_column(connection):
        applied.append(True)
        await connection.execute_script('ALTER TABLE "agent" ADD COLUMN "nickname" VARCHAR(32)')

    monkeypatch.setattr(migrations, "STEPS", [*migrations.STEPS, add_column])
    await open_database(database_url)
    try:
        assert applied == [True]
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
        await current_connection().execute_query('SELECT "nickname" FROM "agent"')
    finally:
        await close_database()
    await open_database(database_url)  # already at the newest: nothing runs again
    await close_database()
    assert applied == [True]


async def test_a_newer_database_is_refused(database_url, monkeypatch):
    await open_database(database_url)
    await SchemaVersion.filter(id=1).update(version=len(migrations.STEPS) + 5)
    await close_database()
    with pytest.raises(RuntimeError, match="newer than this csgw"):
        await open_database(database_url)
    await close_database()


async def an_older_store(database_url: str, agents: list[dict], downgrade: str) -> None:
    """A store as an older csgw left it: these agents, then `downgrade` (SQL) undoing later steps."""
    await open_database(database_url)
    try:
        for agent in agents:
            await Agent.create(**agent)
        await current_connection().execute_script(downgrade)
    finally:
        await close_database()


async def test_a_version_3_database_gains_the_agents_automatic_away_mark(database_url):
    await an_older_store(database_url, [{"name": "a", "status": "away"}],
                         'ALTER TABLE "agent" DROP COLUMN "auto_away_since"; '
                         'UPDATE "csgw_schema_version" SET "version" = 3')
    await open_database(database_url)  # upgrades at start
    try:
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
        agent = await Agent.get(name="a")
        assert agent.status == "away" and agent.auto_away_since is None  # chosen away, as far as anyone knows
    finally:
        await close_database()


async def test_a_version_5_desk_keeps_its_first_agent_as_supervisor(database_url):
    await an_older_store(database_url, [{"name": "founder"}, {"name": "helper"}],
                         'ALTER TABLE "agent" DROP COLUMN "role"; UPDATE "csgw_schema_version" SET "version" = 5')
    await open_database(database_url)  # upgrades at start
    try:
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
        roles = {agent.name: agent.role for agent in await Agent.all()}
        assert roles == {"founder": "supervisor", "helper": "agent"}
    finally:
        await close_database()


async def test_a_version_6_outbox_gains_its_claim_columns(database_url):
    await an_older_store(database_url, [],
                         'ALTER TABLE "outbox" DROP COLUMN "claimed_by"; ALTER TABLE "outbox" DROP COLUMN "claimed_until"; '
                         'UPDATE "csgw_schema_version" SET "version" = 6')
    await open_database(database_url)  # upgrades at start
    try:
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
        await current_connection().execute_query('SELECT "claimed_by", "claimed_until" FROM "outbox"')
    finally:
        await close_database()


async def conversation(customer_id: int, state: str = "bot", channel: str = "webchat",
                       thread_key: str | None = None) -> Conversation:
    at = now()
    return await Conversation.create(customer_id=customer_id, channel=channel, account="default", state=state,
                                     thread_key=thread_key, opened_at=at, last_message_at=at)


async def test_a_version_8_store_keeps_the_newest_open_conversation_of_each_customer_thread(database_url):
    await open_database(database_url)
    try:  # as two instances racing left it before the index
        await current_connection().execute_script(
            f'DROP INDEX "{OPEN_CONVERSATION_INDEX}"; UPDATE "csgw_schema_version" SET "version" = 8')
        older, newer = await conversation(1, "assigned"), await conversation(1)
        after_close = await conversation(1, "closed")
        other_channel, other_customer = await conversation(1, channel="wechat_oa"), await conversation(2)
        threads = [await conversation(1, thread_key=key) for key in ("t1", "t1", "t2")]
    finally:
        await close_database()
    with capture_logs() as events:
        await open_database(database_url)  # upgrades at start
    try:
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
        states = {c.id: c.state for c in await Conversation.all()}
        assert states == {older.id: "closed", newer.id: "bot", after_close.id: "closed", other_channel.id: "bot",
                          other_customer.id: "bot", threads[0].id: "closed", threads[1].id: "bot",
                          threads[2].id: "bot"}
        assert (await Conversation.get(id=older.id)).closed_at is not None
        [warning] = [e for e in events if e["log_level"] == "warning"]
        assert warning["conversation_ids"] == [older.id, threads[0].id]
        with pytest.raises(IntegrityError):  # from now on the store refuses a second one
            await conversation(1)
        await conversation(1, thread_key="t3")
    finally:
        await close_database()


async def test_a_version_9_store_gains_notes_and_conversation_tags(database_url):
    narrow = ('ALTER TABLE "message" ALTER COLUMN "direction" TYPE VARCHAR(3); '
              if database_url.startswith("postgres") else "")  # SQLite keeps no length
    await an_older_store(database_url, [], f'DROP TABLE "conversation_tag"; {narrow}'
                                           'UPDATE "csgw_schema_version" SET "version" = 9')
    await open_database(database_url)  # upgrades at start
    try:
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
        talk = await conversation(1)
        note = await Message.create(conversation_id=talk.id, channel="webchat", account="default",
                                    direction="note", sender="agent", text="客户很着急", created_at=now())
        await ConversationTag.create(conversation_id=talk.id, tag="物流", source="agent", created_at=now())
        assert (await Message.get(id=note.id)).direction == "note"
        assert await ConversationTag.filter(tag="物流").values_list("conversation_id", flat=True) == [talk.id]
    finally:
        await close_database()


async def test_a_version_10_store_gains_the_rating_comment(database_url):
    await an_older_store(database_url, [], 'ALTER TABLE "conversation" DROP COLUMN "satisfaction_comment"; '
                                           'ALTER TABLE "conversation" DROP COLUMN "rated_at"; '
                                           'UPDATE "csgw_schema_version" SET "version" = 10')
    await open_database(database_url)  # upgrades at start
    try:
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
        talk = await conversation(1, "closed")
        await Conversation.filter(id=talk.id).update(satisfaction=2, satisfaction_comment="等了很久", rated_at=now())
        rated = await Conversation.get(id=talk.id)
        assert (rated.satisfaction, rated.satisfaction_comment, rated.rated_at is not None) == (2, "等了很久", True)
    finally:
        await close_database()


async def test_a_version_11_store_gains_console_sessions_and_login_codes(database_url):
    await an_older_store(database_url, [{"name": "amy", "status": "away"}],
                         'DROP TABLE "agent_session"; DROP TABLE "login_code"; '
                         'ALTER TABLE "agent" DROP COLUMN "chosen_status"; '
                         'UPDATE "csgw_schema_version" SET "version" = 11')
    await open_database(database_url)  # upgrades at start
    try:
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
        amy = await Agent.get(name="amy")
        assert (amy.status, amy.chosen_status) == ("away", None)  # never chose: the next sign-in goes online
        at = now()
        await AgentSession.create(agent_id=amy.id, token_hash="a" * 64, via="link", created_at=at, expires_at=at)
        await LoginCode.create(agent_id=amy.id, code_hash="b" * 64, created_at=at, expires_at=at)
        with pytest.raises(IntegrityError):  # a code's hash names one code
            await LoginCode.create(agent_id=amy.id, code_hash="b" * 64, created_at=at, expires_at=at)
    finally:
        await close_database()


async def test_a_version_13_store_gains_the_index_of_conversations_by_state_and_agent(database_url):
    await an_older_store(database_url, [{"name": "amy", "status": "online"}],
                         'DROP INDEX "idx_conversation_state_agent"; UPDATE "csgw_schema_version" SET "version" = 13')
    await open_database(database_url)  # upgrades at start
    try:
        assert (await SchemaVersion.get(id=1)).version == len(migrations.STEPS)
        connection = current_connection()
        if connection.capabilities.dialect == "sqlite":
            plan = await connection.execute_query_dict(
                'EXPLAIN QUERY PLAN SELECT "id" FROM "conversation" WHERE "state" = ? AND "agent_id" IS NOT NULL',
                ["queued"])
            assert any("idx_conversation_state_agent" in row["detail"] for row in plan), plan
        else:
            rows = await connection.execute_query_dict(
                "SELECT 1 FROM pg_indexes WHERE indexname = 'idx_conversation_state_agent'")
            assert rows
    finally:
        await close_database()

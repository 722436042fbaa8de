"""Small durable key/value state per channel account (sync cursors, IMAP UIDVALIDITY/last UID)."""

from __future__ import annotations

from csgw.gateway.clock import now
from csgw.gateway.models import ChannelCursor
from csgw.gateway.storage.plans import ExecuteMany, Plan
from csgw.gateway.storage.writer import GroupCommitWriter


class CursorStore:
    def __init__(self, writer: GroupCommitWriter) -> None:
        self.writer = writer

    async def get(self, channel: str, account: str, key: str) -> str | None:
        row = await ChannelCursor.get_or_none(channel=channel, account=account, key=key)
        return row.value if row else None

    async def set(self, channel: str, account: str, key: str, value: str) -> None:
        await self.writer.run_plan(_set_cursor, channel, account, key, value)


def _set_cursor(channel: str, account: str, key: str, value: str) -> Plan[None]:
    yield ExecuteMany('INSERT INTO "channel_cursor" ("channel", "account", "key", "value", "updated_at") '
                      'VALUES (?, ?, ?, ?, ?) ON CONFLICT ("channel", "account", "key") '
                      'DO UPDATE SET "value" = excluded."value", "updated_at" = excluded."updated_at"',
                      [[channel, account, key, value, now()]])

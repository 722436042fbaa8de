"""Small durable key/value state per channel account (sync cursors, IMAP UIDVALIDITY/last UID)."""

from __future__ import annotations

from csgw.gateway.models import ChannelCursor
from csgw.gateway.storage.writer import GroupCommitWriter


class CursorStore:
    def __init__(self, writer: GroupCommitWriter) -> None:
        self.writer = writer

    async def get(self, channel: str, account: str, key: str) -> str | None:
        row = await ChannelCursor.get_or_none(channel=channel, account=account, key=key)
        return row.value if row else None

    async def set(self, channel: str, account: str, key: str, value: str) -> None:
        async def job(connection):
            updated = await ChannelCursor.filter(channel=channel, account=account, key=key).using_db(
                connection).update(value=value)
            if not updated:
                await ChannelCursor.create(using_db=connection, channel=channel, account=account,
                                           key=key, value=value)

        await self.writer.run(job)

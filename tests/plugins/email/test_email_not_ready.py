"""An IMAP server that is down when the gateway starts: health says why, and the channel starts by
itself once the server is back (no restart)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from csgw.app import MONITOR
from csgw.gateway import channel_start
from csgw.testing import running_gateway
from tests.gateway.helpers import wait_for_condition
from tests.plugins.email.email_testkit import Mailbox, build_mail
from tests.plugins.email.test_email_gateway import _email_plugin


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def forwarder(port: int, target_host: str, target_port: int) -> AsyncIterator[None]:
    """A TCP relay on `port` to the real IMAP server: the server "comes back" when this opens."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(target_host, target_port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(relay, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()


def channel_check(report: dict, name: str = "channel:email/shop") -> dict:
    return next(check for check in report["checks"] if check["name"] == name)


async def test_channel_down_at_start_reports_why_and_starts_when_the_server_returns(
    tmp_path, dovecot, mailbox: Mailbox, smtp_server, monkeypatch
) -> None:
    monkeypatch.setattr(channel_start, "BACKOFF_BASE_SECONDS", 0.05)
    monkeypatch.setattr(channel_start, "BACKOFF_CAP_SECONDS", 0.2)
    smtp_port, handler = smtp_server
    port = free_port()  # nothing listens here yet: connection refused
    channel = {
        "plugin": "email", "account": "shop", "imap_host": "127.0.0.1", "imap_port": port,
        "imap_ssl": False, "imap_user": mailbox.user, "imap_password": dovecot.password,
        "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_starttls": False,
        "from_address": "示例小店 <support@shop.example>",
    }
    await mailbox.append(build_mail("发货时间", "下单后多久发货呀")[1])
    async with running_gateway(tmp_path, extra_plugins=_email_plugin(), channels=[channel]) as gw:
        check = channel_check(await gw.server.app[MONITOR].report())
        assert check["status"] == "down"
        assert check["detail"]["connected"] is False
        assert f"127.0.0.1:{port}" in check["detail"]["last_error"]
        assert dovecot.password not in json.dumps(check)
        assert not handler.messages

        async def answered() -> bool:
            return len(handler.messages) >= 1

        async with forwarder(port, dovecot.host, dovecot.port):
            await wait_for_condition(answered, timeout=30)
        assert "48小时" in handler.messages[0][2].get_body(("plain",)).get_content()
        assert gw.services.channels[("email", "shop")].stats.connected is not False

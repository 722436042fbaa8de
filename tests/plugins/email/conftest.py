"""Fixtures: a real Dovecot IMAP server (installed by tests/services), an aiosmtpd capture server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from csgw.plugins.email.channel import EmailChannel, EmailConfig
from tests.plugins.email.email_testkit import Mailbox, StandInServices
from tests.services import dovecot as dovecot_service


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Any]:
    server = dovecot_service.DovecotServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def imap_user() -> str:
    return f"shop-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def mailbox(dovecot: Any, imap_user: str) -> Mailbox:
    return Mailbox(dovecot.host, dovecot.port, imap_user, dovecot.password)


class CaptureHandler:
    """Keeps every message; recipients named tempfail@/reject@ get 451/550 like a real MTA."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("tempfail@"):
            return "451 4.3.0 try again later"
        if address.startswith("reject@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), mail))
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, CaptureHandler]]:
    handler = CaptureHandler()
    port = dovecot_service.free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler
    controller.stop()


@pytest.fixture
def services(tmp_path: Path) -> StandInServices:
    return StandInServices(tmp_path / "data")


class FastEmailChannel(EmailChannel):
    imap_tuning = {
        "idle_seconds": 60.0,
        "poll_seconds": 0.2,
        "backoff_base": 0.05,
        "backoff_cap": 0.3,
        "timeout": 5.0,
    }


@pytest.fixture
async def make_channel(
    dovecot: Any, imap_user: str, smtp_server: tuple[int, CaptureHandler]
) -> AsyncIterator[Callable[..., EmailChannel]]:
    created: list[EmailChannel] = []

    def make(services: StandInServices, **overrides: Any) -> EmailChannel:
        config = EmailConfig(
            **{
                "plugin": "email",
                "account": "shop",
                "imap_host": dovecot.host,
                "imap_port": dovecot.port,
                "imap_ssl": False,
                "imap_user": imap_user,
                "imap_password": dovecot.password,
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_server[0],
                "smtp_starttls": False,
                "from_address": "示例小店 <support@shop.example>",
                **overrides,
            }
        )
        channel = FastEmailChannel(config, services)
        created.append(channel)
        return channel

    yield make
    for channel in created:
        await channel.stop()

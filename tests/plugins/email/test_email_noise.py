"""Auto-replies, bounces, lists and our own mail are recognised; the bot-mail cap holds."""

from __future__ import annotations

from email import message_from_bytes

import pytest

from csgw.gateway.shared_limits import MemoryLimits
from csgw.plugins.email.noise import BotMailGuard, detect_noise

OWN = {"support@shop.example"}


def _noise(
    headers: str, sender: str = "c@example.cn", subject: str = "hello", ctype: str = "text/plain"
):
    raw = f"From: {sender}\r\nSubject: {subject}\r\nContent-Type: {ctype}\r\n{headers}\r\nbody\r\n"
    return detect_noise(message_from_bytes(raw.encode()), sender, subject, OWN)


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ("Auto-Submitted: auto-replied\r\n", "auto_reply"),
        ("Auto-Submitted: auto-generated\r\n", "auto_reply"),
        ("X-Autoreply: yes\r\n", "auto_reply"),
        ("X-Autorespond: vacation\r\n", "auto_reply"),
        ("X-Auto-Response-Suppress: All\r\n", "auto_reply"),
        ("Precedence: bulk\r\n", "bulk"),
        ("Precedence: junk\r\n", "bulk"),
        ("Precedence: list\r\n", "mailing_list"),
        ("List-Id: <news.example.cn>\r\n", "mailing_list"),
        ("List-Unsubscribe: <mailto:u@example.cn>\r\n", "mailing_list"),
        ("X-Failed-Recipients: x@example.cn\r\n", "bounce"),
    ],
)
def test_header_noise(headers: str, kind: str) -> None:
    noise = _noise(headers)
    assert noise is not None and noise.kind == kind


def test_person_mail_is_not_noise() -> None:
    assert _noise("Auto-Submitted: no\r\nPrecedence: normal\r\n") is None


def test_bounces() -> None:
    assert (
        _noise("", ctype='multipart/report; report-type=delivery-status; boundary="x"').kind
        == "bounce"
    )
    assert _noise("", sender="MAILER-DAEMON@mx.example.cn").kind == "bounce"
    assert _noise("", subject="系统退信").kind == "bounce"
    assert _noise("", subject="Undeliverable: hello").kind == "bounce"


def test_chinese_auto_reply_without_headers() -> None:
    assert _noise("", subject="自动回复：您好，我正在休假").kind == "auto_reply"
    assert _noise("", subject="Automatic reply: order").kind == "auto_reply"


def test_own_mail_and_no_reply_senders() -> None:
    assert _noise("", sender="support@shop.example").kind == "own_mail"
    assert _noise("", sender="noreply@platform.example").kind == "no_reply_sender"


async def test_bot_mail_guard_caps_per_address_and_refills_over_the_window() -> None:
    clock = Clock()
    guard = BotMailGuard(MemoryLimits(clock=clock), "support", limit=2, window=60)
    for _ in range(2):
        assert await guard.allows("A@x.cn")
        await guard.record("a@x.cn")
    clock.now += 15
    assert not await guard.allows("a@x.cn")  # checking takes nothing: still refused
    assert not await guard.allows("a@x.cn")
    assert await guard.allows("b@x.cn")
    clock.now += 15  # half the window: one mail's worth back
    assert await guard.allows("a@x.cn")
    await guard.record("a@x.cn")
    assert not await guard.allows("a@x.cn")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

"""The e-mail channel inside the real gateway: Dovecot in, the demo bot answers, aiosmtpd out."""

from __future__ import annotations

import asyncio
from importlib.metadata import entry_points

from csgw.gateway.models import Conversation, Message
from csgw.plugins.email import plugin as email_plugin
from csgw.testing import running_gateway
from tests.plugins.email.email_testkit import Mailbox, build_mail


async def _until(predicate, timeout: float = 15.0) -> None:
    async def poll() -> None:
        while not await predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


def _email_plugin() -> list[tuple[str, object]]:
    # Registered by entry point once pyproject names it; until then, handed over here.
    registered = any(ep.name == "email" for ep in entry_points(group="csgw"))
    return [] if registered else [("email", email_plugin)]


async def test_customer_mail_gets_a_threaded_bot_answer(
    tmp_path, dovecot, mailbox: Mailbox, smtp_server
) -> None:
    smtp_port, handler = smtp_server
    channel = {
        "plugin": "email",
        "account": "shop",
        "imap_host": dovecot.host,
        "imap_port": dovecot.port,
        "imap_ssl": False,
        "imap_user": mailbox.user,
        "imap_password": dovecot.password,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_starttls": False,
        "from_address": "示例小店 <support@shop.example>",
    }
    first_id, first = build_mail("发货时间", "下单后多久发货呀")
    await mailbox.append(first)
    async with running_gateway(tmp_path, extra_plugins=_email_plugin(), channels=[channel]):

        async def answered() -> bool:
            return len(handler.messages) >= 1

        await _until(answered)
        _, rcpt, answer = handler.messages[0]
        assert rcpt == ["customer@example.cn"]
        assert answer["In-Reply-To"] == first_id
        assert answer["Auto-Submitted"] == "auto-replied"
        assert "48小时" in answer.get_body(("plain",)).get_content()
        (conversation,) = await Conversation.filter(channel="email")
        assert answer["Subject"] == f"Re: 发货时间 [#{conversation.thread_key}]"

        # The customer answers from a client that keeps only the subject token.
        _, reply = build_mail(answer["Subject"], "好的，谢谢")
        await mailbox.append(reply)

        async def threaded() -> bool:
            return (
                await Message.filter(direction="in", conversation_id=conversation.id).count() == 2
            )

        await _until(threaded)
        assert await Conversation.filter(channel="email").count() == 1
        stored = await Message.get(external_id=first_id)
        assert stored.payload["subject"] == "发货时间" and stored.text == "下单后多久发货呀"

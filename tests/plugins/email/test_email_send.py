"""Outbound mail through a real SMTP capture server: headers, parts, threading, error mapping."""

from __future__ import annotations

import pytest

from csgw.gateway.channel import OutboundMessage, SendError
from csgw.plugins.email.compose import outbound_message_id
from tests.plugins.email.email_testkit import Mailbox, StandInServices, build_mail


def _outbound(
    conversation_id: int,
    user_id: str,
    *,
    message_id: int = 7,
    sender: str = "bot",
    text: str = "您好，订单明天发货。\n\n祝好",
) -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id,
        conversation_id=conversation_id,
        channel="email",
        account="shop",
        user_id=user_id,
        text=text,
        sender=sender,
    )


async def test_bot_reply_is_threaded_and_marked_automatic(
    make_channel, services: StandInServices, mailbox: Mailbox, smtp_server
) -> None:
    _, handler = smtp_server
    first_id, raw = build_mail(
        "订单什么时候发货？",
        "你好",
        references="<older@example.cn>",
        in_reply_to="<older@example.cn>",
    )
    await mailbox.append(raw)
    channel = make_channel(services)
    await channel.start()
    (inbound,) = await services.wait_stored(1)
    conversation = services.conversation_of(inbound)

    await channel.send(_outbound(conversation, inbound.user_id))
    await channel.send(
        _outbound(conversation, inbound.user_id)
    )  # the outbox retries the same message

    (mail_from, rcpt, mail), (_, _, retried) = handler.messages
    key = inbound.thread_key
    expected_id = outbound_message_id("shop", 7, key, "shop.example")
    assert mail_from == "support@shop.example" and rcpt == ["customer@example.cn"]
    assert mail["From"] == "示例小店 <support@shop.example>"
    assert mail["To"] == "customer@example.cn"
    assert mail["Subject"] == f"Re: 订单什么时候发货？ [#{key}]"
    assert mail["In-Reply-To"] == first_id
    assert mail["References"].split() == ["<older@example.cn>", first_id]
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["Message-ID"] == retried["Message-ID"] == expected_id
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(("html",)).get_content()
    assert plain.strip() == "您好，订单明天发货。\n\n祝好"
    assert "<p>您好，订单明天发货。</p>" in html

    # The customer answers our mail with only In-Reply-To kept: same conversation.
    _, answer = build_mail("Re: 发货", "收到，谢谢", in_reply_to=expected_id)
    await mailbox.append(answer)
    stored = await services.wait_stored(2)
    assert stored[-1].thread_key == key
    # Our own message, should it come back into the mailbox (BCC, loops), is not taken as a customer's.
    own = mail.as_bytes()
    await mailbox.append(own)
    await mailbox.append(build_mail("另一件事", "新问题")[1])
    stored = await services.wait_stored(3)
    assert [m.text for m in stored][-1] == "新问题"
    assert len(services.accepted) == 3


async def test_agent_reply_is_not_marked_automatic(make_channel, services, smtp_server) -> None:
    _, handler = smtp_server
    channel = make_channel(services)
    await channel.send(_outbound(41, "Buyer@Example.cn", sender="agent", text="我来处理"))
    (_, rcpt, mail) = handler.messages[0]
    assert rcpt == ["buyer@example.cn"]
    assert mail["Auto-Submitted"] is None
    assert mail["In-Reply-To"] is None
    assert mail["Subject"].startswith("Re: Your message [#CS-")


@pytest.mark.parametrize(
    ("user", "retryable", "code"),
    [("tempfail@example.cn", True, "smtp_451"), ("reject@example.cn", False, "smtp_550")],
)
async def test_smtp_refusals_map_to_retry_decisions(
    make_channel, services, user: str, retryable: bool, code: str
) -> None:
    channel = make_channel(services)
    with pytest.raises(SendError) as raised:
        await channel.send(_outbound(5, user, sender="agent"))
    assert raised.value.retryable is retryable and raised.value.code == code
    assert channel.stats.last_error_code == code


async def test_unreachable_smtp_is_retryable(make_channel, services) -> None:
    from tests.services.dovecot import free_port

    channel = make_channel(services, smtp_port=free_port())
    with pytest.raises(SendError) as raised:
        await channel.send(_outbound(5, "a@example.cn", sender="agent"))
    assert raised.value.retryable is True and raised.value.code == "smtp_unreachable"


async def test_loop_guard_caps_bot_mail_per_address(make_channel, services, smtp_server) -> None:
    channel = make_channel(services)
    for n in range(channel.limiter.limit):
        await channel.send(_outbound(9, "robot@example.cn", message_id=n))
    with pytest.raises(SendError) as raised:
        await channel.send(_outbound(9, "robot@example.cn", message_id=99))
    assert raised.value.retryable is False and raised.value.code == "email_loop_guard"
    await channel.send(
        _outbound(9, "robot@example.cn", message_id=100, sender="agent")
    )  # people still can
    assert len(smtp_server[1].messages) == channel.limiter.limit + 1


def test_config_rejects_ssl_with_starttls_and_bad_from() -> None:
    from pydantic import ValidationError

    from csgw.plugins.email.channel import EmailConfig

    base = {
        "plugin": "email",
        "account": "a",
        "imap_host": "h",
        "imap_user": "u",
        "imap_password": "p",
        "smtp_host": "h",
        "from_address": "support@shop.example",
    }
    assert EmailConfig(**base).imap_port == 993
    with pytest.raises(ValidationError):
        EmailConfig(**{**base, "smtp_ssl": True, "smtp_starttls": True})
    with pytest.raises(ValidationError):
        EmailConfig(**{**base, "from_address": "not an address"})
    with pytest.raises(ValidationError):
        EmailConfig(**{**base, "unknown_key": 1})


def test_plugin_registers_the_channel_type() -> None:
    from csgw.plugins.email import plugin
    from csgw.plugins.email.channel import EmailChannel

    assert plugin.csgw_channel_types() == [EmailChannel]
    assert EmailChannel.plugin == "email"

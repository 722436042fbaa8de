"""The channel against a real Dovecot: mail delivered by IMAP APPEND is read back, threaded, kept;
with several instances on one PostgreSQL, one reads the mailbox and another takes over when it dies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from csgw.gateway.channel import ChannelConfigError, ChannelNotReady, OutboundMessage, SendError
from csgw.gateway.storage.pg_leadership import PostgresLeadership
from csgw.plugins.email.imap_names import encode_mailbox
from csgw.plugins.email.threading import subject_token
from tests.conftest import POSTGRES_URL
from tests.gateway.instances import end_session
from tests.plugins.email.email_testkit import Mailbox, MemoryCursors, StandInServices, build_mail

BOX = encode_mailbox("客服")  # the wire form of a Chinese mailbox name


async def _until(predicate, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def test_mail_is_read_back_and_threaded(
    make_channel, services: StandInServices, mailbox: Mailbox
) -> None:
    first_id, first = build_mail("订单什么时候发货？", "你好，订单 A1 什么时候发货？")
    await mailbox.append(first)  # waiting before the channel starts: picked up by the first sync
    channel = make_channel(services)
    await channel.start()
    (opening,) = await services.wait_stored(1)
    key = opening.thread_key
    assert opening.text == "你好，订单 A1 什么时候发货？"
    assert opening.user_id == "customer@example.cn"
    assert opening.external_id == first_id
    assert opening.payload["thread_via"] == "new" and opening.payload["no_auto_reply"] is False

    # Arrives while the channel IDLEs.
    reply_id, reply = build_mail(
        "Re: 订单什么时候发货？", "还没收到", in_reply_to=first_id, references=first_id
    )
    await mailbox.append(reply)
    _, other = build_mail("发票怎么开？", "需要开发票")
    await mailbox.append(other)
    _, by_token = build_mail(f"Re: 订单 {subject_token(key)}", "客户端丢了头信息")
    await mailbox.append(by_token)
    _, by_subject = build_mail("回复：订单什么时候发货？", "没有头也没有标记")
    await mailbox.append(by_subject)
    _, stranger = build_mail(f"Re: {subject_token(key)}", "别人的邮件", sender="other@example.cn")
    await mailbox.append(stranger)

    stored = await services.wait_stored(6)
    by_text = {m.text: m for m in stored}
    assert (
        by_text["还没收到"].thread_key == key
        and by_text["还没收到"].payload["thread_via"] == "header"
    )
    assert by_text["客户端丢了头信息"].thread_key == key
    assert by_text["客户端丢了头信息"].payload["thread_via"] == "token"
    assert by_text["没有头也没有标记"].thread_key == key
    assert by_text["需要开发票"].thread_key != key  # a new subject is a new conversation
    assert by_text["别人的邮件"].thread_key != key  # a token alone does not let others in
    assert len(services.accepted) == 6
    # Stored mail is marked read, and nothing was moved away.
    flags = await mailbox.flags()
    assert len(flags) == 6 and all(b"\\Seen" in line for line in flags)
    health = channel.health_detail()
    assert health["imap_connected"] is True and health["imap_mode"] == "idle"
    assert 0 <= health["newest_mail_age_seconds"] < 60
    assert channel.stats.connected is True


async def test_restart_neither_loses_nor_duplicates(
    make_channel, tmp_path, mailbox: Mailbox
) -> None:
    cursors = MemoryCursors()
    services = StandInServices(tmp_path / "data", cursors)
    channel = make_channel(services)
    await channel.start()
    for n in range(2):
        await mailbox.append(build_mail(f"问题 {n}", f"内容 {n}")[1])
    await services.wait_stored(2)
    await channel.stop()

    await mailbox.append(build_mail("停机时来的信", "停机期间")[1])
    restarted = StandInServices(tmp_path / "data", cursors)
    again = make_channel(restarted)
    await again.start()
    (late,) = await restarted.wait_stored(1)
    assert late.text == "停机期间"
    await mailbox.append(build_mail("重启后", "重启后的信")[1])
    await restarted.wait_stored(2)
    assert [m.text for m in restarted.accepted] == ["停机期间", "重启后的信"]


async def test_failed_store_leaves_mail_unread_until_stored(
    make_channel, services, mailbox: Mailbox
) -> None:
    services.fail_next = 2
    await mailbox.append(build_mail("会失败一次", "请重试")[1])
    channel = make_channel(services)
    await channel.start()
    await services.wait_for(lambda: services.attempts >= 2)
    assert not any(b"\\Seen" in line for line in await mailbox.flags())
    (stored,) = await services.wait_stored(1)
    assert stored.text == "请重试"
    await _until(lambda: channel.inbound.last_sync_at is not None)
    assert all(b"\\Seen" in line for line in await mailbox.flags())
    assert channel.stats.last_error is not None


async def test_uidvalidity_reset_resyncs_without_duplicates(
    make_channel, tmp_path, mailbox: Mailbox
) -> None:
    cursors = MemoryCursors()
    services = StandInServices(tmp_path / "data", cursors)
    assert (await mailbox.command("create", BOX)).result == "OK"
    mails = [build_mail(f"信 {n}", f"第 {n} 封") for n in range(2)]
    for _, raw in mails:
        await mailbox.append(raw, mailbox=BOX)
    channel = make_channel(services, mailbox="客服")
    await channel.start()
    await services.wait_stored(2)
    await channel.stop()
    before = await channel.state.get("imap:客服:uidvalidity")

    # The mailbox is rebuilt (a server migration): same mail, new UIDs, one new mail.
    assert (await mailbox.command("delete", BOX)).result == "OK"
    assert (await mailbox.command("create", BOX)).result == "OK"
    for _, raw in [*mails, build_mail("新信", "迁移后的新信")]:
        await mailbox.append(raw, mailbox=BOX)
    again = make_channel(services, mailbox="客服")
    await again.start()
    await services.wait_stored(3)
    await _until(lambda: again.inbound.last_sync_at is not None)
    assert [m.text for m in services.accepted] == ["第 0 封", "第 1 封", "迁移后的新信"]
    assert await again.state.get("imap:客服:uidvalidity") != before


async def test_noise_is_stored_but_never_answered_by_the_bot(
    make_channel, services, mailbox: Mailbox
) -> None:
    _, auto = build_mail("自动回复：休假中", "我在休假", headers={"Auto-Submitted": "auto-replied"})
    await mailbox.append(auto)
    channel = make_channel(services)
    await channel.start()
    (stored,) = await services.wait_stored(1)
    assert stored.payload["no_auto_reply"] is True
    assert stored.payload["noise"]["kind"] == "auto_reply"
    bot = OutboundMessage(
        message_id=1,
        conversation_id=services.conversation_of(stored),
        channel="email",
        account="shop",
        user_id=stored.user_id,
        text="您好",
        sender="bot",
    )
    with pytest.raises(SendError) as raised:
        await channel.send(bot)
    assert raised.value.retryable is False and raised.value.code == "email_noise"


async def test_reconnects_after_the_server_drops_the_connection(
    make_channel, services, mailbox, dovecot
) -> None:
    channel = make_channel(services)
    await channel.start()
    await mailbox.append(build_mail("一", "第一封")[1])
    await services.wait_stored(1)
    dovecot.kick(mailbox.user)
    await _until(lambda: channel.inbound.reconnects >= 1 and channel.inbound.connected)
    await mailbox.append(build_mail("二", "断线后的信")[1])
    stored = await services.wait_stored(2)
    assert stored[-1].text == "断线后的信"
    assert len(services.accepted) == 2
    assert channel.stats.reconnects >= 1


@pytest.mark.parametrize("tuning", [{"use_idle": False}, {"idle_seconds": 0.2}])
async def test_polling_and_renewed_idle_still_deliver(
    make_channel, services, mailbox, tuning: dict[str, Any]
) -> None:
    channel = make_channel(services)
    channel.inbound.settings = type(channel.inbound.settings)(
        **{**_fields(channel.inbound.settings), **tuning}
    )
    await channel.start()
    await asyncio.wait_for(_wait_syncs(channel, 3), 10)  # several poll ticks / IDLE renewals
    await mailbox.append(build_mail("轮询", "轮询到的信")[1])
    (stored,) = await services.wait_stored(1)
    assert stored.text == "轮询到的信"
    assert channel.health_detail()["imap_mode"] == ("poll" if "use_idle" in tuning else "idle")


async def _wait_syncs(channel, count: int) -> None:
    seen: set[float] = set()
    while len(seen) < count:
        if channel.inbound.last_sync_at:
            seen.add(channel.inbound.last_sync_at)
        await asyncio.sleep(0.02)


def _fields(settings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__}


async def test_start_tells_config_errors_from_unreachable_servers(make_channel, services) -> None:
    with pytest.raises(ChannelConfigError):
        await make_channel(services, imap_password="wrong").start()
    with pytest.raises(ChannelConfigError):
        await make_channel(services, mailbox="NoSuchBox").start()
    from tests.services.dovecot import free_port

    with pytest.raises(ChannelNotReady):
        await make_channel(services, imap_port=free_port()).start()


@pytest.mark.skipif(not POSTGRES_URL, reason="several instances share PostgreSQL only")
async def test_one_instance_reads_the_mailbox_and_another_takes_over_when_it_dies(
    make_channel, tmp_path, mailbox: Mailbox
) -> None:
    assert POSTGRES_URL
    cursors = MemoryCursors()  # the store both instances share
    # the first, once dead, would not try again within the test; the second tries at once
    first = PostgresLeadership(POSTGRES_URL, retry_seconds=60)
    second = PostgresLeadership(POSTGRES_URL, retry_seconds=0.05)
    first_services = StandInServices(tmp_path / "first", cursors, first)
    second_services = StandInServices(tmp_path / "second", cursors, second)
    try:
        reader = make_channel(first_services)
        await reader.start()
        standby = make_channel(second_services)
        await standby.start()
        await mailbox.append(build_mail("订单什么时候发货？", "第一封")[1])
        assert [m.text for m in await first_services.wait_stored(1)] == ["第一封"]
        refused = second.refused
        await _until(lambda: second.refused >= refused + 10)  # ten tries, each found it read elsewhere
        assert second_services.attempts == 0 and not standby.reading
        assert standby.stats.connected is None and not standby.inbound.connected  # no IMAP login kept
        assert standby.health_detail()["polling"] is False

        await end_session(first)  # the first instance's process died
        await _until(lambda: not reader.reading)
        await mailbox.append(build_mail("还在吗？", "第二封")[1])
        assert [m.text for m in await second_services.wait_stored(1)] == ["第二封"]  # from the stored UID on
        assert standby.reading and len(first_services.accepted) == 1
    finally:
        await first.stop()
        await second.stop()

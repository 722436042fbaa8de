"""Delivery through the outbox: retried on 5xx and 429 (after Retry-After), failed at once on a
refusal, given up after max_attempts (and shown failed in the log API), one conversation's events
in order while another's flow, and nothing pending lost or sent twice across a restart."""

from __future__ import annotations

import asyncio

import aiohttp

from csgw.gateway.channel import InboundMessage
from csgw.plugins.webhooks.models import WebhookDelivery
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent, wait_for_condition
from tests.plugins.webhooks.helpers import count_is, settled

FAKE = [{"plugin": "fake", "account": "shop"}]
MESSAGES = ["message.created"]


def said(text: str, n: int, user: str = "u-1") -> InboundMessage:
    return InboundMessage("fake", "shop", user, text, f"{user}-m{n}")


async def test_server_errors_are_retried_with_the_same_body_until_accepted(tmp_path, receiver):
    receiver.answer = lambda r: 500 if r.attempt <= 2 else 200
    async with running_gateway(tmp_path, channels=FAKE, webhooks=[receiver.endpoint(events=MESSAGES)]) as gw:
        await gw.services.accept(said("你好", 1))
        await receiver.wait_for(lambda: len(receiver.accepted()) >= 2)
        first = [r for r in receiver.received if r.delivery_id == receiver.accepted()[0].delivery_id]
        assert [(r.attempt, r.status) for r in first] == [(1, 500), (2, 500), (3, 200)]
        assert first[0].body == first[2].body and all(r.signed for r in first)
        row = await WebhookDelivery.get(delivery_id=first[0].delivery_id)
        assert (row.state, row.attempts, row.last_status, row.last_error) == ("sent", 3, 200, None)


async def test_a_429_waits_for_its_retry_after(tmp_path, receiver):
    receiver.answer = lambda r: (429, {"Retry-After": "1"}) if r.attempt == 1 else 200
    async with running_gateway(tmp_path, channels=FAKE, webhooks=[receiver.endpoint(events=MESSAGES)]) as gw:
        await gw.services.accept(said("你好", 1))
        await receiver.wait_for(lambda: receiver.accepted())
        limited, accepted = [r for r in receiver.received if r.delivery_id == receiver.accepted()[0].delivery_id]
        assert (limited.status, accepted.attempt) == (429, 2)
        # the back-off base is 5 ms: only Retry-After explains a second's wait
        assert accepted.at - limited.at >= 1.0


async def test_a_refusal_fails_at_once_and_giving_up_shows_in_the_log(tmp_path, receiver):
    receiver.answer = lambda r: 400 if r.data.get("direction") == "in" else 503
    endpoint = receiver.endpoint(events=MESSAGES, max_attempts=3)
    async with running_gateway(tmp_path, channels=FAKE, webhooks=[endpoint]) as gw, \
            aiohttp.ClientSession() as session:
        _, token = await add_agent("boss")
        desk = AgentClient(session, gw.url, token)
        await gw.services.accept(said("你好", 1))
        await wait_for_condition(count_is("failed", 2))
        log = await desk.call("GET", "/webhooks/deliveries?status=failed", expect=200)
        refused, gave_up = sorted(log["items"], key=lambda item: item["sequence"])
        assert (refused["data"]["direction"], refused["attempts"], refused["last_status"]) == ("in", 1, 400)
        assert "not retried" in refused["last_error"]
        assert (gave_up["data"]["direction"], gave_up["attempts"], gave_up["last_status"]) == ("out", 3, 503)
        assert "gave up after 3 attempts" in gave_up["last_error"]
        assert [r.attempt for r in receiver.received if r.delivery_id == gave_up["id"]] == [1, 2, 3]
        assert (await desk.call("GET", "/webhooks/deliveries?status=sent"))["items"] == []


async def test_a_conversations_events_wait_for_its_first_while_another_conversation_flows(tmp_path, receiver):
    held = asyncio.Event()  # until set, the first delivery of u-1's conversation is refused with a 503

    def answer(r):
        return 503 if r.data["text"] == "第一条" and not held.is_set() else 200

    receiver.answer = answer
    endpoint = receiver.endpoint(events=MESSAGES, max_attempts=100)
    async with running_gateway(tmp_path, channels=FAKE, webhooks=[endpoint]) as gw:
        for n, text in enumerate(["第一条", "第二条", "第三条"], start=1):
            await gw.services.accept(said(text, n, user="u-1"))
        for n in range(1, 4):
            await gw.services.accept(said(f"别的问题{n}", n, user="u-2"))
        other = lambda: [r for r in receiver.accepted() if r.data["text"].startswith("别的问题")]  # noqa: E731
        await receiver.wait_for(lambda: len(other()) == 3 and len(receiver.received) > 4)
        held_back = [r for r in receiver.received if r.data["conversation_id"] != other()[0].data["conversation_id"]]
        assert {r.data["text"] for r in held_back} == {"第一条"}  # retried; nothing after it was sent
        held.set()
        await wait_for_condition(settled)
        conversation_id = held_back[0].data["conversation_id"]
        first = [r for r in receiver.accepted() if r.data["conversation_id"] == conversation_id]
        recorded = await WebhookDelivery.filter(ordering_key=f"conversation:{conversation_id}").order_by("id")
        assert [r.delivery_id for r in first] == [row.delivery_id for row in recorded]  # in the order recorded
        assert [r.data["text"] for r in first if r.data["direction"] == "in"] == ["第一条", "第二条", "第三条"]


async def test_pending_deliveries_survive_a_restart_and_go_out_once(tmp_path, receiver):
    receiver.answer = lambda r: 503
    endpoint = receiver.endpoint(events=MESSAGES, max_attempts=100, retry_base_seconds=0.05)
    async with running_gateway(tmp_path, channels=FAKE, webhooks=[endpoint]) as gw:
        await gw.services.accept(said("你好", 1))
        await gw.fake("shop").wait_sent(1)
        await receiver.wait_for(lambda: len({r.delivery_id for r in receiver.received}) >= 1)
    pending = await pending_after_stop(tmp_path)
    assert pending  # stopped with deliveries still pending
    receiver.answer = lambda r: 200
    async with running_gateway(tmp_path, channels=FAKE, webhooks=[endpoint]):
        await wait_for_condition(settled)
        rows = await WebhookDelivery.all()
    assert {row.delivery_id for row in rows} == set(pending) and all(row.state == "sent" for row in rows)
    for delivery_id in pending:
        assert len([r for r in receiver.accepted() if r.delivery_id == delivery_id]) == 1


async def pending_after_stop(tmp_path) -> list[str]:
    from csgw.gateway.storage.db import close_database, open_database

    await open_database(f"sqlite://{tmp_path}/csgw.db", {"webhooks": ["csgw.plugins.webhooks.models"]})
    try:
        return [row.delivery_id for row in await WebhookDelivery.filter(state="pending")]
    finally:
        await close_database()

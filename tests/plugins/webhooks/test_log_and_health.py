"""The delivery log (`GET /api/v1/webhooks/deliveries`: supervisors, filters, pages) and the
`webhooks` health check (degraded while deliveries fail or wait too long); neither ever shows
the secret or a URL's query."""

from __future__ import annotations

import json

import aiohttp

from csgw.gateway.channel import InboundMessage
from csgw.plugins.webhooks.models import WebhookDelivery
from csgw.testing import running_gateway
from tests.gateway.helpers import AgentClient, add_agent, wait_for_condition
from tests.plugins.webhooks.helpers import settled, some

FAKE = [{"plugin": "fake", "account": "shop"}]


def said(text: str, n: int) -> InboundMessage:
    return InboundMessage("fake", "shop", "u-1", text, f"m{n}")


async def test_the_log_is_for_supervisors_filtered_and_paged(tmp_path, receiver):
    endpoint = receiver.endpoint(events=["message.created", "conversation.closed"])
    endpoint["url"] += "?token=query-secret"
    async with running_gateway(tmp_path, channels=FAKE, webhooks=[endpoint]) as gw, \
            aiohttp.ClientSession() as session:
        _, boss_token = await add_agent("boss")
        _, agent_token = await add_agent("li", role="agent")
        boss, agent = AgentClient(session, gw.url, boss_token), AgentClient(session, gw.url, agent_token)
        await gw.services.accept(said("你好", 1))
        await gw.services.accept(said("结束", 2))
        await receiver.wait_for(lambda: receiver.accepted("conversation.closed"))
        await wait_for_condition(settled)

        refused = await agent.call("GET", "/webhooks/deliveries")
        assert refused["error"]["code"] == "forbidden"
        everything = await boss.call("GET", "/webhooks/deliveries", expect=200)
        assert len(everything["items"]) == len(receiver.received) and everything["next_cursor"] is None
        text = json.dumps(everything)
        assert receiver.secret not in text and "query-secret" not in text and "signature" not in text
        [closed] = (await boss.call("GET", "/webhooks/deliveries?event=conversation.closed"))["items"]
        assert (closed["status"], closed["attempts"], closed["last_status"]) == ("sent", 1, 200)
        assert closed["endpoint"] == receiver.url and closed["id"] == receiver.accepted("conversation.closed")[0].delivery_id
        assert closed["data"]["conversation_id"] == receiver.accepted("conversation.closed")[0].data["conversation_id"]

        newest_first = [item["sequence"] for item in everything["items"]]
        assert newest_first == sorted(newest_first, reverse=True)
        page = await boss.call("GET", "/webhooks/deliveries?limit=2", expect=200)
        rest = await boss.call("GET", f"/webhooks/deliveries?limit=100&cursor={page['next_cursor']}", expect=200)
        assert [i["sequence"] for i in page["items"] + rest["items"]] == newest_first

        wrong = await boss.call("GET", "/webhooks/deliveries?status=faild", expect=422)
        assert wrong["error"]["message"] == "status is one of pending, sent, failed (did you mean failed?)"
        await boss.call("GET", "/webhooks/deliveries?event=order.paid", expect=422)
        await boss.call("GET", "/webhooks/deliveries?limit=ten", expect=400)
        await boss.call("GET", "/webhooks/deliveries?cursor=x", expect=400)
        async with session.get(gw.url + "/api/v1/openapi.json") as response:
            assert "/api/v1/webhooks/deliveries" in (await response.json())["paths"]


async def test_health_degrades_while_deliveries_fail_or_wait_and_recovers(tmp_path, receiver):
    receiver.answer = lambda r: 410
    endpoint = receiver.endpoint(events=["message.created"], name="crm", backlog_degraded_seconds=3600)
    async with running_gateway(tmp_path, channels=FAKE, webhooks=[endpoint]) as gw, \
            aiohttp.ClientSession() as session:
        assert await webhooks_check(session, gw.url) == {
            "name": "webhooks", "status": "ok", "value": 0,
            "threshold": {"failed_in_window": 1, "window_seconds": 300.0},
            "detail": {"endpoints": [{"name": "crm", "status": "ok", "pending": 0, "oldest_pending_seconds": None,
                                      "backlog_degraded_seconds": 3600.0, "failed_in_window": 0,
                                      "last_error": None}]}}
        await gw.services.accept(said("你好", 1))
        await wait_for_condition(some("failed"))
        check = await webhooks_check(session, gw.url)
        [crm] = check["detail"]["endpoints"]
        assert check["status"] == "degraded" and crm["failed_in_window"] >= 1
        assert crm["last_error"].startswith("HTTP 410: not now")
        assert receiver.secret not in json.dumps(check)

        # a delivery pending longer than backlog_degraded_seconds also degrades it
        await WebhookDelivery.filter(state="failed").delete()
        receiver.answer = lambda r: 503
        await gw.services.accept(said("还在吗", 2))
        await wait_for_condition(some("pending", attempts__gte=1))
        assert (await webhooks_check(session, gw.url))["status"] == "ok"  # pending, but not for long
        await WebhookDelivery.filter(state="pending").update(created_at=aged(3601))
        assert (await webhooks_check(session, gw.url))["status"] == "degraded"
        receiver.answer = lambda r: 200
        await wait_for_condition(settled)
        assert (await webhooks_check(session, gw.url))["status"] == "ok"


def aged(seconds: float):
    from datetime import timedelta

    from csgw.gateway.clock import now

    return now() - timedelta(seconds=seconds)


async def webhooks_check(session: aiohttp.ClientSession, url: str) -> dict:
    async with session.get(url + "/healthz") as response:
        report = await response.json()
    [check] = [c for c in report["checks"] if c["name"] == "webhooks"]
    return check

"""The language model answering customers through the real gateway (fake channel, demo shop KB on
words), driven by the fake OpenAI-compatible server: grounded answers, the refusals and checks
that leave the knowledge base's own reply, failures that fall back and show in health, where it
may answer, what leaves the machine and what the log keeps."""

from __future__ import annotations

import json

import aiohttp
from structlog.testing import capture_logs

from csgw.gateway.hookspecs import hookimpl
from csgw.gateway.messages import InboundMessage
from csgw.gateway.models import Conversation, Message
from csgw.testing import running_gateway
from tests.fakes.openai_server import FakeModel, fail, hang, say

KEY = "sk-test-0123456789abcdef"
AUTHENTIC = "本店所有商品均为品牌官方正品，支持专柜验货，假一赔十。"
UNSURE = "专柜验货吗"  # the demo KB finds nothing; its nearest entry is `authentic`
FALLBACK = "抱歉，我还没理解您的问题"  # the start of the KB's own miss (its menu follows)


def llm(model: FakeModel, **more) -> dict:
    return {"base_url": model.base_url, "model": "fake-model", "api_key": KEY, **more}


async def ask(gw, text: str, user: str, account: str = "a", count: int = 1):
    """The customer `user` asks; the `count`th message the fake channel sent them."""
    channel = gw.fake(account)
    before = len(channel.sent)
    await gw.services.accept(InboundMessage("fake", account, user, text, f"{user}-{before}"))
    sent = await channel.wait_sent(before + count)
    return sent[before + count - 1]


async def health(gw) -> dict:
    async with aiohttp.ClientSession() as session, session.get(gw.url + "/healthz") as response:
        text = await response.text()
    assert KEY not in text
    return next(check for check in json.loads(text)["checks"] if check["name"] == "llm")


async def test_a_grounded_answer_cites_a_given_entry_and_masks_the_phone_number(tmp_path, database_url):
    async with FakeModel(api_key=KEY) as model, running_gateway(
            tmp_path, database_url=database_url, channels=[{"plugin": "fake", "account": "a"}],
            llm=llm(model)) as gw:
        model.script(say(f"{AUTHENTIC} [kb:authentic]"))
        with capture_logs() as logged:
            sent = await ask(gw, f"我手机13812345678，{UNSURE}？", "u1")
        assert sent.text == AUTHENTIC  # the entry's own words, the [kb:authentic] citation taken out
        (request,) = model.requests
        assert request["stream"] is True and request["model"] == "fake-model" and request["max_tokens"] == 400
        prompt = model.user_texts()[0]
        assert "[kb:authentic]" in prompt and "[PHONE]" in prompt and "13812345678" not in prompt
        assert model.authorizations == [f"Bearer {KEY}"]
        answer = await Message.get(id=sent.message_id)
        assert (answer.payload["source"], answer.payload["entry_id"]) == ("llm", "authentic")
        assert answer.payload["llm"]["entries"] == ["authentic"]
        exchange = next(event for event in logged if event["event"] == "llm exchange")
        assert "[PHONE]" in exchange["prompt"] and "13812345678" not in repr(logged)
        assert KEY not in repr(logged)
        assert (await health(gw))["status"] == "ok"


async def test_a_refusal_or_an_answer_that_fails_the_check_leaves_the_kb_reply(tmp_path):
    async with FakeModel() as model, running_gateway(
            tmp_path, channels=[{"plugin": "fake", "account": "a"}], llm=llm(model, stream=False)) as gw:
        model.script(say("NO_ANSWER"))
        model.script(say("支持专柜验货。[kb:made-up-entry]"))  # a citation it was not given
        model.script(say("支持专柜验货，鉴定费只要99元。[kb:authentic]"))  # a price the entry does not state
        model.script(say("支持专柜验货，假一赔十。"))  # no citation at all
        for number in range(4):
            sent = await ask(gw, UNSURE, f"u{number}")
            assert sent.text.startswith(FALLBACK), sent.text
            assert (await Message.get(id=sent.message_id)).payload["source"] == "none"
        assert all(body["stream"] is False for body in model.requests) and len(model.requests) == 4
        # u0's second miss hands over; an answer the model finds comes first, the hand-over still happens
        answer = await ask(gw, UNSURE, "u0")
        assert answer.text == AUTHENTIC
        assert (await Conversation.get(id=answer.conversation_id)).state in ("queued", "assigned")
        check = await health(gw)
        assert check["status"] == "ok"  # the model answered: nothing failed
        assert check["detail"]["fallbacks"] == {"unknown": 1, "unknown_citation": 1, "invented_number": 1,
                                                "no_citation": 1}


async def test_time_outs_and_server_errors_fall_back_and_show_in_health(tmp_path):
    channels = [{"plugin": "fake", "account": "a"}, {"plugin": "fake", "account": "b"}]
    async with FakeModel(api_key=KEY) as model, running_gateway(
            tmp_path, channels=channels, llm=llm(model, timeout_seconds=0.3, sites=["fake/a"])) as gw:
        model.script(hang())  # never answers: the 0.3 s deadline gives the KB's reply
        model.script(fail(500, f"upstream broke, key {KEY}"))  # a server echoing the key
        for number in range(2):
            assert (await ask(gw, UNSURE, f"u{number}")).text.startswith(FALLBACK)
        check = await health(gw)
        assert check["status"] == "degraded"
        assert check["detail"]["failures_by_kind"] == {"timeout": 1, "unavailable": 1}
        assert "HTTP 500" in check["detail"]["last_error"]

        model.script(fail(429, "slow down", retry_after=120))
        assert (await ask(gw, UNSURE, "u2")).text.startswith(FALLBACK)
        assert (await ask(gw, UNSURE, "u3")).text.startswith(FALLBACK)  # paused: not even asked
        assert len(model.requests) == 3
        check = await health(gw)
        assert check["detail"]["paused_seconds"] > 100 and check["detail"]["fallbacks"]["paused"] == 1

        assert (await ask(gw, UNSURE, "u4", account="b")).text.startswith(FALLBACK)  # not in `sites`
        assert len(model.requests) == 3 and check["detail"]["fallbacks"].get("paused") == 1


async def test_without_llm_nothing_changes(tmp_path):
    async with running_gateway(tmp_path, channels=[{"plugin": "fake", "account": "a"}]) as gw, \
            aiohttp.ClientSession() as session:
        assert gw.services.pipeline.overrides == [] or all(o.name != "llm" for o in gw.services.pipeline.overrides)
        sent = await ask(gw, UNSURE, "u1")
        assert sent.text.startswith(FALLBACK)
        async with session.get(gw.url + "/healthz") as response:
            assert "llm" not in {check["name"] for check in (await response.json())["checks"]}


class ShopOrders:
    """The shop's plugin telling a customer's live orders (`csgw_customer_context`)."""

    @hookimpl
    def csgw_customer_context(self, customer):
        return {"orders": [{"order_id": "A1001", "status": "shipped", "tracking_no": "SF1234567890",
                            "phone": "13812345678"}]}


async def test_an_order_question_gets_the_customers_orders_as_facts(tmp_path):
    # the orders plugin would answer these itself: off, so the knowledge base is unsure and the model asked
    async with FakeModel() as model, running_gateway(
            tmp_path, channels=[{"plugin": "fake", "account": "a"}], disabled=["orders"],
            extra_plugins=[("shop_orders", ShopOrders())], llm=llm(model)) as gw:
        await gw.services.attach_order("fake", "a", "u1", {"order_id": "B2002", "status": "paid"})
        model.script(say("您的订单A1001已发货，快递单号SF1234567890。[kb:tracking-stuck]"))
        sent = await ask(gw, "订单A1001的快递单号是多少", "u1")
        assert sent.text == "您的订单A1001已发货，快递单号SF1234567890。"  # its numbers are the order's
        prompt = model.user_texts()[-1]
        assert "The customer's orders" in prompt and "SF1234567890" in prompt and "B2002" in prompt  # both sources
        assert "13812345678" not in prompt and "[PHONE]" in prompt
        model.script(say("您的订单A1001已发货，预计11月30日送达。[kb:ship-time]"))  # a date it was not told
        dropped = await ask(gw, "订单A1001什么时候到", "u1")
        assert (await Message.get(id=dropped.message_id)).payload["source"] in ("none", "clarify")
        model.script(say("NO_ANSWER"))
        await ask(gw, UNSURE, "u1")  # not about an order: no orders given
        assert "The customer's orders" not in model.user_texts()[-1]

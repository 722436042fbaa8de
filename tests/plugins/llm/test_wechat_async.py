"""WeChat's 5-second passive reply never waits for the model: the push is acknowledged with
"success" at once and the model's answer (or, when the model fails, the knowledge base's own
reply) goes out through the customer-service send API."""

from __future__ import annotations

import asyncio

import pytest

from csgw.gateway.models import Message
from tests.fakes.openai_server import FakeModel, fail, held
from tests.fakes.wechat_platform import FakeWechatPlatform
from tests.plugins.wechat.wechat_testkit import oa_gateway, wait_until

AUTHENTIC = "本店所有商品均为品牌官方正品，支持专柜验货，假一赔十。"


@pytest.fixture
async def platform():
    async with FakeWechatPlatform() as fake:
        yield fake


async def test_the_push_is_acknowledged_before_the_model_answers_and_the_answer_is_sent(tmp_path, platform):
    async with FakeModel() as model, oa_gateway(
            tmp_path, platform, reply_budget=60,  # a wait for the model would hold the push for a minute
            sections={"llm": {"base_url": model.base_url, "model": "fake-model"}}):
        gate = model.script(held())  # the model answers only when the test says so
        delivery = await platform.oa.user_says("wx1", "o1", "专柜验货吗")
        assert (delivery.status, delivery.body) == (200, "success")
        await asyncio.wait_for(model.arrived.wait(), 10)  # asked, not answered: nothing sent yet
        assert len(model.requests) == 1 and platform.oa.sent == []
        gate.set()
        await wait_until(lambda: platform.oa.sent)
        assert platform.oa.sent[0]["text"] == {"content": AUTHENTIC}
        (answer,) = await Message.filter(direction="out", sender="bot")
        assert (answer.delivery, answer.payload["source"]) == ("sent", "llm")

        model.script(fail(503, "overloaded"))  # the model fails: the KB's own reply, sent the same way
        delivery = await platform.oa.user_says("wx1", "o2", "专柜验货吗")
        assert (delivery.status, delivery.body) == (200, "success")
        await wait_until(lambda: len(platform.oa.sent) == 2)
        assert platform.oa.sent[1]["touser"] == "o2" and "抱歉，我还没理解您的问题" in platform.oa.sent[1]["text"]["content"]

"""The chat-completions client against the fake server: streamed and whole answers, and every
failure as a kind the caller can act on, without the key in any message."""

from __future__ import annotations

import pytest

from csgw.plugins.llm.client import ChatClient, LlmError, retry_after
from csgw.plugins.llm.config import LlmConfig
from tests.fakes.openai_server import FakeModel, Step, fail, hang, say

KEY = "sk-client-0123456789"
MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "你好"}]


def client(model: FakeModel, **more) -> ChatClient:
    return ChatClient(LlmConfig(base_url=model.base_url, model="fake-model", api_key=KEY, **more))


@pytest.mark.parametrize("stream", [True, False])
async def test_an_answer_streamed_or_whole(stream):
    async with FakeModel(api_key=KEY) as model:
        model.script(say("现货48小时内发货。[kb:ship-time]"))
        completion = await client(model, stream=stream).complete(MESSAGES, timeout=5, max_tokens=50)
        assert completion.text == "现货48小时内发货。[kb:ship-time]" and completion.finish_reason == "stop"
        assert completion.model == "fake-model"
        (body,) = model.requests
        assert (body["stream"], body["max_tokens"], body["messages"]) == (stream, 50, MESSAGES)


async def test_failures_are_kinds_and_never_carry_the_key():
    async with FakeModel(api_key=KEY) as model:
        chat = client(model, stream=True)
        cases = [(fail(429, "rate limit", retry_after=7), "rate_limited", 7.0),
                 (fail(500, f"boom for key {KEY}"), "unavailable", None),
                 (fail(400, "model not found"), "refused", None),
                 (Step(text="partial", stream_error=True), "unavailable", None),
                 (hang(), "timeout", None)]
        for step, kind, wait in cases:
            model.script(step)
            with pytest.raises(LlmError) as raised:
                await chat.complete(MESSAGES, timeout=0.3)
            assert (raised.value.kind, raised.value.retry_after) == (kind, wait), str(raised.value)
            assert KEY not in str(raised.value)
        wrong = ChatClient(LlmConfig(base_url=model.base_url, model="m", api_key="sk-wrong-key-000"))
        with pytest.raises(LlmError) as raised:
            await wrong.complete(MESSAGES, timeout=5)
        assert (raised.value.kind, raised.value.status) == ("refused", 401) and "sk-wrong" not in str(raised.value)
    with pytest.raises(LlmError) as raised:  # the server is gone
        await chat.complete(MESSAGES, timeout=5)
    assert raised.value.kind == "unavailable"


def test_retry_after_reads_seconds_and_dates():
    assert retry_after("12") == 12.0 and retry_after(None) is None and retry_after("soon") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: now

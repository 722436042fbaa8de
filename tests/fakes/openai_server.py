"""A fake OpenAI-compatible chat-completions server (a real aiohttp server on 127.0.0.1) with a
"model" that follows csgw's prompts by simple rules, for csgw's tests and benches:

    async with FakeModel(api_key="sk-test") as model:
        config = {"base_url": model.base_url, "model": "fake-1", "api_key": "sk-test"}
        model.script(say("价格是99元 [kb:price]"))   # the next request gets exactly this
        model.script(fail(429, retry_after=30))      # … then a 429
        model.script(hang())                         # … then no answer until the fake stops
        gate = model.script(held())                  # … then the rules' answer once gate.set()

Without a script every request gets the rules' answer (`follow_prompt`): for a grounded question,
the given entry sharing the most character pairs with the question (at least `ANSWER_SHARE` of
the question's pairs, `ANSWER_LEAD` more than the next entry) is answered with its own answer
and cited, else NO_ANSWER; a draft is the answer of the entry nearest any of the customer's lines; a summary quotes the customer; gaps are grouped
by shared pairs. Answers are streamed as server-sent events when the request asks for it.
`requests` keeps every request body, `authorizations` every Authorization header.
"""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

# The rules' thresholds, set on tests/data/questions_tune.yaml (bench/bench_llm.py --tune), never on
# the held-out questions: the best entry's share of the question's character pairs, and its lead
# over the next entry's share.
ANSWER_SHARE = 0.3
ANSWER_LEAD = 0.1
_ENTRY = re.compile(r"\[kb:([^\]]+)\]\nQ: (.*)\nA: (.*)")
_QUESTION = re.compile(r"Customer's question: (.*)", re.DOTALL)


@dataclass
class Step:
    """What the fake does with one request."""

    text: str | None = None  # None: the rules' answer
    status: int = 200
    message: str = ""
    retry_after: str | None = None
    gate: asyncio.Event | None = None  # answer only once it is set
    stream_error: bool = False  # stream a chunk, then an error event


def say(text: str) -> Step:
    return Step(text=text)


def fail(status: int, message: str = "upstream failure", retry_after: float | None = None) -> Step:
    return Step(status=status, message=message, retry_after=None if retry_after is None else str(retry_after))


def hang() -> Step:
    return Step(gate=asyncio.Event())  # nobody sets it: the fake answers when it stops


def held() -> Step:
    return Step(gate=asyncio.Event())


@dataclass
class FakeModel:
    api_key: str | None = None
    model_name: str = "fake-model"
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set at each request

    def __post_init__(self) -> None:
        self._steps: list[Step] = []
        self._gates: list[asyncio.Event] = []
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        self.server = TestServer(app, host="127.0.0.1")

    async def __aenter__(self) -> FakeModel:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for gate in self._gates:
            gate.set()
        await self.server.close()

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("/v1"))

    def script(self, step: Step) -> asyncio.Event | None:
        self._steps.append(step)
        if step.gate is not None:
            self._gates.append(step.gate)
        return step.gate

    def user_texts(self) -> list[str]:
        """The user message of every request so far."""
        return [m["content"] for body in self.requests for m in body["messages"] if m["role"] == "user"]

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.authorizations.append(request.headers.get("Authorization"))
        self.arrived.set()
        step = self._steps.pop(0) if self._steps else Step()
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided", "invalid_api_key")
        if step.gate is not None:
            await step.gate.wait()
        if step.status != 200:
            headers = {"Retry-After": step.retry_after} if step.retry_after else {}
            return _error(step.status, step.message, "rate_limit_exceeded" if step.status == 429 else "server_error",
                          headers)
        text = step.text if step.text is not None else follow_prompt(body["messages"])
        if body.get("stream"):
            return await self._stream(request, text, step.stream_error)
        return web.json_response({
            "id": "chatcmpl-fake", "object": "chat.completion", "model": self.model_name,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    async def _stream(self, request: web.Request, text: str, broken: bool) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        await response.write(b": keep-alive\n\n")
        pieces = [text[i:i + 4] for i in range(0, len(text), 4)] or [""]
        for number, piece in enumerate(pieces):
            chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": self.model_name,
                     "choices": [{"index": 0, "delta": {"content": piece} if number else {"role": "assistant", "content": piece},
                                  "finish_reason": None}]}
            await response.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            if broken:
                await response.write(b'data: {"error": {"message": "overloaded"}}\n\n')
                return response
        done = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": self.model_name,
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        await response.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
        return response


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "api_error", "code": code}},
                             status=status, headers=headers)


# ----- the rules the fake model follows -----

def pairs(text: str) -> set[str]:
    """Character pairs of the text's letters and digits (width and case folded)."""
    kept = "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if unicodedata.category(c)[0] in "LN")
    return {kept[i:i + 2] for i in range(len(kept) - 1)} or ({kept} if kept else set())


def best_entry(question: str, entries: Sequence[tuple[str, str, str]]
               ) -> tuple[tuple[str, str, str] | None, float, float]:
    """The entry whose question and answer share the most of the question's character pairs, that
    share, and its lead over the next entry's."""
    asked = pairs(question)
    if not asked or not entries:
        return None, 0.0, 0.0
    scored = sorted(((len(asked & pairs(q + a)) / len(asked), (entry_id, q, a)) for entry_id, q, a in entries),
                    key=lambda item: -item[0])
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    return scored[0][1], scored[0][0], scored[0][0] - runner_up


def follow_prompt(messages: list[dict[str, str]]) -> str:
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    user = messages[-1]["content"]
    entries = _ENTRY.findall(user)
    if "NO_ANSWER" in system and "Customer's question" in user:
        question = _QUESTION.search(user)
        entry, share, lead = best_entry(question.group(1) if question else "", entries)
        sure = entry is not None and share >= ANSWER_SHARE and lead >= ANSWER_LEAD
        return f"{entry[2]} [kb:{entry[0]}]" if sure and entry is not None else "NO_ANSWER"
    if "reply to the customer" in system:
        asked = [line[len("customer: "):] for line in user.splitlines() if line.startswith("customer: ")]
        entry, share, _ = max((best_entry(text, entries) for text in asked), key=lambda found: found[1],
                              default=(None, 0.0, 0.0))
        return f"{entry[2]} [kb:{entry[0]}]" if entry is not None and share > 0 else "您好，请问还有什么可以帮您？"
    if "sum up" in system:
        asked = [line[len("customer: "):] for line in user.splitlines() if line.startswith("customer: ")]
        return f"顾客问了{len(asked)}个问题，最后问：{asked[-1] if asked else '（无）'}"
    if '"topics"' in system:
        return json.dumps({"topics": _topics(user)}, ensure_ascii=False)
    return "NO_ANSWER"


def _topics(user: str) -> list[dict[str, Any]]:
    asked = re.findall(r"^(\d+)\. (.*) \(×\d+\)$", user, re.MULTILINE)
    topics: list[dict[str, Any]] = []
    for number, text in asked:
        home = next((t for t in topics if len(pairs(text) & pairs(t["question"])) * 2 >= len(pairs(text))), None)
        if home is None:
            topics.append({"name": text[:8], "questions": [int(number)], "question": text,
                           "answer": "【待填写：答案】"})
        else:
            home["questions"].append(int(number))
    return topics

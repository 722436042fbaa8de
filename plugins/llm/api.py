"""Agent API of the assistant: whether it is on, a reply draft for a conversation, a summary of
one. Agents who may act on the conversation only; 404 `llm_off` when no model is configured (there
is no assistant to ask), 503 with a code saying why when the model fails (the console shows the
message)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from csgw.gateway.api.auth import authenticate, require_conversation_access
from csgw.gateway.api.context import services_of
from csgw.gateway.api.conversations import conversation_or_404
from csgw.gateway.api.errors import ApiError, field, read_json
from csgw.gateway.api.routes import ApiRoutes
from csgw.gateway.models import Conversation

from . import assist
from .client import LlmError
from .model import LanguageModel
from .prompts import LANGUAGES
from .running import model_for

routes = ApiRoutes()
FAILURES = {"timeout": "the model did not answer in time", "rate_limited": "the model's server is rate-limiting csgw",
            "paused": "the model failed several times and is paused for a while",
            "unavailable": "the model's server is unavailable", "refused": "the model's server refused the request",
            "bad_response": "the model's answer was unusable"}


def _model(request: web.Request) -> LanguageModel:
    model = model_for(services_of(request))
    if model is None:
        raise ApiError(404, "llm_off", "no language model is configured: add [llm] base_url and model to csgw.toml")
    return model


async def _conversation(request: web.Request) -> tuple[LanguageModel, Conversation]:
    agent = await authenticate(request)
    conversation = await conversation_or_404(request)
    require_conversation_access(agent, conversation)
    return _model(request), conversation


def _failed(error: LlmError) -> ApiError:
    reason = FAILURES.get(error.kind, "the model failed")
    wait = f"; try again in {error.retry_after:.0f} s" if error.retry_after else ""
    return ApiError(503, f"llm_{error.kind}", f"{reason}{wait} ({error})")


@routes.route("GET", "/assist", "Whether the language-model assistant is on (drafts, summaries)")
async def assist_status(request: web.Request) -> web.Response:
    await authenticate(request)
    model = model_for(services_of(request))
    body: dict[str, Any] = {"enabled": model is not None}
    if model is not None:
        body.update(model=model.config.model, summaries=model.config.summaries)
    return web.json_response(body)


@routes.route("POST", "/conversations/{id}/draft", "A reply draft from the language model for the agent to edit "
              "and send (never sent by itself), grounded in the knowledge base")
async def draft(request: web.Request) -> web.Response:
    model, conversation = await _conversation(request)
    questions = await assist.recent_questions(conversation)
    if not questions:
        raise ApiError(409, "nothing_to_answer", "the customer has not written yet")
    services, limit = services_of(request), model.config.entries
    entries = assist.nearest_of([await services.knowledge(question, conversation.channel, conversation.account, limit)
                                 for question in questions], limit * 2)
    try:
        found = await assist.draft(model, conversation, entries)
    except LlmError as error:
        raise _failed(error) from None
    return web.json_response({"draft": found.text, "entries": list(found.entries), "model": model.config.model})


@routes.route("POST", "/conversations/{id}/summary", "A short summary of the conversation from the language model",
              body={"type": "object", "properties": {"language": {"type": "string", "enum": list(LANGUAGES)}}})
async def summary(request: web.Request) -> web.Response:
    model, conversation = await _conversation(request)
    body = await read_json(request) if request.can_read_body else {}
    language = field(body, "language", str, required=False) or services_of(request).settings.server.language
    if language not in LANGUAGES:
        raise ApiError(422, "bad_language", f"language is one of {', '.join(LANGUAGES)}")
    try:
        text = await assist.summary(model, conversation, language)
    except LlmError as error:
        raise _failed(error) from None
    return web.json_response({"summary": text, "model": model.config.model})

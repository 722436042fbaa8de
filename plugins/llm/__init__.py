"""The builtin `llm` plugin: an optional language model (any OpenAI-compatible chat-completions
endpoint) that answers from the shop's knowledge base when the matcher is unsure, drafts and
sums up for agents, and names knowledge gaps. Off unless `[llm]` names a base_url and a model
(docs/llm.md).

In the reply chain it is a reply override (`csgw_reply_overrides`), not a handler: the knowledge
base decides first, and only its question back or miss (`UNANSWERED_SOURCES`) is handed to the
model, with the entries nearest to the question (`services.knowledge`).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from csgw.gateway.health_check import CheckResult
from csgw.gateway.hookspecs import hookimpl

from .config import SECTION, LlmConfig
from .running import model_for, summaries_for

if TYPE_CHECKING:
    import typer
    from aiohttp import web
    from pydantic import BaseModel

    from csgw.gateway.api.routes import ApiRoute
    from csgw.gateway.health_check import HealthCheck
    from csgw.gateway.ports import Gateway

    from .customer_replies import GroundedAnswers
    from .model import LanguageModel


class ModelCheck:
    """`llm` in /healthz: degraded while paused or after recent failures; never down."""

    name = "llm"

    def __init__(self, model: LanguageModel) -> None:
        self.model = model

    async def run(self) -> CheckResult:
        return self.model.availability.check(self.name, str(self.model.config.model), self.model.config.host)


@hookimpl
def csgw_config_sections() -> dict[str, type[BaseModel]]:
    return {SECTION: LlmConfig}


@hookimpl
def csgw_reply_overrides(services: Gateway) -> list[GroundedAnswers]:
    model = model_for(services)
    if model is None:
        return []
    from .customer_replies import GroundedAnswers  # with the model's HTTP client: only when on

    return [GroundedAnswers(services, model)]


@hookimpl
def csgw_health_checks(services: Gateway) -> list[HealthCheck]:
    model = model_for(services)
    return [ModelCheck(model)] if model is not None else []


@hookimpl
def csgw_routes(services: Gateway) -> list[web.AbstractRouteDef | ApiRoute]:
    from . import api  # the agent API's handlers: only a gateway building its app needs them

    return list(api.routes)


@hookimpl
def csgw_conversation_changed(services: Gateway, conversation: dict[str, Any], change: str) -> None:
    summaries = summaries_for(services)
    if summaries is not None:
        summaries.changed(conversation, change)


@hookimpl
def csgw_shutdown(services: Gateway) -> Awaitable[None] | None:
    summaries = summaries_for(services)
    return summaries.stop() if summaries is not None else None


@hookimpl
def csgw_cli(app: typer.Typer) -> None:
    from .cli import llm_app

    app.add_typer(llm_app, name="llm")

"""The route table of the agent API: one list drives both aiohttp and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Param:
    """A query parameter with the JSON schema of its values (a bare name in `query` means any string)."""

    name: str
    schema: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, name: str, **schema: Any) -> Param:
        return cls(name, tuple(schema.items()))


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str  # relative to /api/v1
    handler: Handler
    summary: str
    body: dict[str, Any] | None = None  # JSON schema of the request body
    query: tuple[str | Param, ...] = ()
    status: int = 200
    tags: tuple[str, ...] = field(default_factory=tuple)
    # OpenAPI links: (operationId, runtime expression giving that operation's `id` path parameter)
    links: tuple[tuple[str, str], ...] = ()


class ApiRoutes(list[ApiRoute]):
    def route(self, method: str, path: str, summary: str, **options: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.append(ApiRoute(method, path, handler, summary, **options))
            return handler

        return register

"""The route table of the agent API: one list drives both aiohttp and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from csgw.gateway.api.errors import ApiError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ROUTE: web.RequestKey[ApiRoute] = web.RequestKey("csgw_api_route")


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
    public: bool = False  # needs no bearer token (signing in)


    @property
    def query_names(self) -> frozenset[str]:
        return frozenset(param if isinstance(param, str) else param.name for param in self.query)

    @property
    def repeatable(self) -> frozenset[str]:
        """Query parameters that may be given more than once (schema type `array`)."""
        return frozenset(param.name for param in self.query
                         if isinstance(param, Param) and dict(param.schema).get("type") == "array")


class ApiRoutes(list[ApiRoute]):
    def route(self, method: str, path: str, summary: str, **options: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.append(ApiRoute(method, path, handler, summary, **options))
            return handler

        return register


def serving(route: ApiRoute) -> Handler:
    """The handler aiohttp runs for `route`: it leaves the route on the request for `check_query`."""
    async def handler(request: web.Request) -> web.StreamResponse:
        request[ROUTE] = route
        return await route.handler(request)

    return handler


def check_query(request: web.Request) -> None:
    """Refuse query parameters the route does not declare, and a single-valued one given twice:
    a misspelt filter (`?tags=`) must not quietly list everything. Called once the caller is
    authenticated, so a missing token is still a 401."""
    route = request.get(ROUTE)
    if route is None:
        return
    unknown = sorted(set(request.query) - route.query_names)
    if unknown:
        takes = ", ".join(sorted(route.query_names)) or "none"
        raise ApiError(400, "unknown_parameter",
                       f"unknown query parameter {', '.join(unknown)} (this route takes: {takes})")
    repeated = sorted(name for name in route.query_names - route.repeatable if len(request.query.getall(name, [])) > 1)
    if repeated:
        raise ApiError(400, "repeated_parameter", f"query parameter {', '.join(repeated)} is given more than once")

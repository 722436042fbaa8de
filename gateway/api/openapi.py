"""The OpenAPI document, generated from the same route table that aiohttp serves."""

from __future__ import annotations

import re
from typing import Any

from csgw import __version__
from csgw.gateway.api.routes import ApiRoute, Param

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}}}},
}


def query_parameter(param: str | Param) -> dict[str, Any]:
    name, schema = (param, {"type": "string"}) if isinstance(param, str) else (param.name, dict(param.schema))
    return {"name": name, "in": "query", "required": False, "schema": schema}


def openapi_document(routes: list[ApiRoute], prefix: str = "/api/v1") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "summary": route.summary,
            "operationId": route.handler.__name__,
            "security": [] if route.public else [{"bearer": []}],
            "parameters": [
                *({"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in re.findall(r"{(\w+)}", route.path)),
                *(query_parameter(param) for param in route.query),
            ],
            "responses": {
                str(route.status): {"description": "no content"} if route.status == 204 else
                {"description": "success", "content": {"application/json": {"schema": {"type": "object"}}}},
                "4XX": {"description": "client error", "content": {"application/json": {"schema": ERROR_SCHEMA}}},
            },
        }
        if route.links:
            operation["responses"][str(route.status)]["links"] = {
                operation_id: {"operationId": operation_id, "parameters": {"id": source}}
                for operation_id, source in route.links}
        if route.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
        paths.setdefault(prefix + route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "csgw agent API", "version": __version__},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }

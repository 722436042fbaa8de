"""Agent API errors: `{"error": {"code", "message"}}` with a fitting status, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from csgw.gateway.storage.values import MAX_ID, is_storable
from csgw.gateway.storage.values import (
    parse_id as parse_id,  # the API's handlers read ids from here
)

log = structlog.get_logger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


MAX_DEPTH = 32  # no request of the API nests deeper; a 100k-deep body would exhaust the stack


def check_json_value(value: Any) -> None:
    """Refuse what JSON allows but the store cannot hold: lone surrogates ("\\ud800"), integers
    beyond 64 bits, and nesting deeper than any request needs. Iterative: depth is the attack."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ApiError(400, "bad_json", f"the request body nests deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            if not is_storable(item):
                raise ApiError(400, "bad_json", "the request body holds invalid Unicode")
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int) and abs(item) > MAX_ID:
            raise ApiError(422, "bad_field", "a number in the request body is out of range")
        elif isinstance(item, dict):
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The one reader of request bodies: a JSON object, or a 4xx that says what is wrong."""
    try:
        body = await request.json(loads=json.loads)
    except web.HTTPRequestEntityTooLarge:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "bad_json", "the request body is not valid JSON") from None
    except RecursionError:
        raise ApiError(400, "bad_json", f"the request body nests deeper than {MAX_DEPTH} levels") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the request body must be a JSON object")
    check_json_value(body)
    return body


def field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = True,
          max_length: int | None = None) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(422, "missing_field", f"{name} is required")
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))):
        raise ApiError(422, "bad_field", f"{name} has the wrong type")
    if max_length is not None and isinstance(value, str | list) and len(value) > max_length:
        raise ApiError(422, "bad_field", f"{name} is too long (at most {max_length})")
    return value


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn errors on /api into JSON bodies and log client mistakes once."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except ApiError as error:
        log.info("api request refused", path=request.path, status=error.status, code=error.code)
        return error_response(error.status, error.code, error.message)
    except web.HTTPRequestEntityTooLarge:
        log.info("api request body too large", path=request.path)
        return error_response(413, "too_large", "the request body is too large")
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status, "http_error")
        return error_response(error.status, code, error.reason)

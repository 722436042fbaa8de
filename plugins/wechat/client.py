"""Authenticated calls to a WeChat API: token in the query, one refresh-and-retry on a stale token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import structlog

from csgw.gateway.channel import SendError
from csgw.plugins.wechat.token import (
    TOKEN_ERRCODES,
    AccessTokenCache,
    ApiError,
    TokenRefused,
    read_json,
)

log = structlog.get_logger(__name__)


def to_send_error(exc: ApiError, known: dict[int, tuple[bool, str]]) -> SendError:
    """Map a platform error onto the outbox's retry decision, with a message for the agent.

    `known` is errcode -> (retryable, explanation). A refused token is the account's problem,
    not the message's: it is retried, so messages go out once the credentials are fixed."""
    if exc.code is None:
        return SendError(str(exc), retryable=exc.retryable, code="network")
    if isinstance(exc, TokenRefused):
        return SendError(f"{exc}: check the app id/secret and the IP whitelist", retryable=True,
                         code=str(exc.code))
    retryable, why = known.get(exc.code, (exc.retryable, str(exc)))
    return SendError(f"{why} (errcode {exc.code})", retryable=retryable, code=str(exc.code))


class ApiClient:
    """POSTs JSON (or multipart) to `{api_base}{path}?access_token=…` and checks `errcode`."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        api_base: str,
        tokens: AccessTokenCache,
        *,
        timeout: float = 10.0,
    ) -> None:
        self.http = http
        self.api_base = api_base.rstrip("/")
        self.tokens = tokens
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def call(
        self,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
        params: dict[str, str] | None = None,
        method: str = "POST",
    ) -> dict[str, Any]:
        """The decoded answer; an errcode other than 0 raises ApiError(code=…)."""
        token = await self.tokens.get()
        for attempt in (1, 2):
            answer = await self._once(method, path, token, json=json, form=form, params=params)
            code = int(answer.get("errcode", 0) or 0)
            if code in TOKEN_ERRCODES and attempt == 1:
                log.info("wechat.token_rejected", path=path, errcode=code)
                token = await self.tokens.refresh(token)
                continue
            if code:
                raise ApiError(
                    f"{path}: {code} {answer.get('errmsg', '')}".strip(),
                    code=code,
                    retryable=code in (-1, 45009),
                )
            return answer
        raise AssertionError("unreachable")

    async def _once(
        self,
        method: str,
        path: str,
        token: str,
        *,
        json: dict[str, Any] | None,
        form: Callable[[], aiohttp.FormData] | None,
        params: dict[str, str] | None,
    ) -> dict[str, Any]:
        query = {**(params or {}), "access_token": token}
        try:
            async with self.http.request(
                method,
                f"{self.api_base}{path}",
                params=query,
                json=json,
                data=form() if form else None,  # a FormData cannot be sent twice
                timeout=self.timeout,
            ) as resp:
                return await read_json(resp)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ApiError(f"{path}: platform unreachable: {exc!r}", retryable=True) from exc

"""access_token cache for the OA (`/cgi-bin/token`) and WeCom (`/cgi-bin/gettoken`) APIs.

With several instances on one store the cache is backed by the store (`shared_token.py`), so the
instances use one token and only one of them fetches it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import structlog

from csgw.gateway.redact import redact
from csgw.gateway.shared_token import SharedToken, TokenBusy

log = structlog.get_logger(__name__)

REFRESH_MARGIN = 300.0  # renew this long before expiry; the platform overlaps old tokens by 5 minutes
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})


class ApiError(Exception):
    """The platform answered with an errcode, a bad status, or not at all."""

    def __init__(self, message: str, *, code: int | None = None, retryable: bool = False) -> None:
        super().__init__(redact(message))  # aiohttp's errors carry the URL, and the URL the secret
        self.code = code
        self.retryable = retryable


class TokenRefused(ApiError):
    """The token endpoint refused the credentials (wrong secret or AppID, IP not whitelisted)."""


async def read_json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """The JSON body of a platform answer; 5xx and non-JSON bodies are retryable ApiErrors."""
    if response.status >= 500:
        raise ApiError(f"platform answered HTTP {response.status}", retryable=True)
    if response.status >= 400:
        raise ApiError(f"platform answered HTTP {response.status}")
    try:
        data = await response.json(content_type=None)
    except ValueError as exc:
        raise ApiError("platform answered with a body that is not JSON", retryable=True) from exc
    if not isinstance(data, dict):
        raise ApiError("platform answered with JSON that is not an object", retryable=True)
    return data


class AccessTokenCache:
    """One token per credential; concurrent callers share a single in-flight fetch. With `shared`,
    the token comes from the store, fetched by one instance for all."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        params: dict[str, str],
        *,
        refresh_margin: float = REFRESH_MARGIN,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedToken | None = None,
    ) -> None:
        self._http = http
        self._url = url
        self._params = params
        self._margin = refresh_margin
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._inflight: asyncio.Task[str] | None = None
        self._shared = shared
        self.fetches = 0  # by this instance

    async def get(self) -> str:
        """A valid token, fetching one if none is cached or it is about to expire."""
        if self._token and self._clock() < self._expires_at - self._margin:
            return self._token
        return await self._shared_fetch()

    async def refresh(self, stale: str | None) -> str:
        """Drop `stale` (a token the platform rejected) and fetch anew, unless already replaced."""
        if stale is not None and self._token is not None and self._token != stale:
            return self._token
        self._token = None
        return await self._shared_fetch(stale)

    async def _shared_fetch(self, stale: str | None = None) -> str:
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.ensure_future(self._fetch() if self._shared is None else self._from_store(stale))
        # shield: one waiter being cancelled must not cancel the fetch the others wait on
        return await asyncio.shield(self._inflight)

    async def _from_store(self, stale: str | None) -> str:
        """The store's token, fetched by whichever instance found it missing, old or refused."""
        assert self._shared is not None
        try:
            stored = await self._shared.obtain(self._request, margin=self._margin, stale=stale)
        except TokenBusy as exc:
            raise ApiError(str(exc), retryable=True) from exc
        self._token = stored.token
        self._expires_at = self._clock() + (stored.expires_at - self._shared.clock())
        return self._token

    async def _fetch(self) -> str:
        self._token, lifetime = await self._request()
        self._expires_at = self._clock() + lifetime
        return self._token

    async def _request(self) -> tuple[str, float]:
        """A new token from the platform, and its lifetime in seconds."""
        self.fetches += 1
        try:
            async with self._http.get(self._url, params=self._params, timeout=self._timeout) as resp:
                data = await read_json(resp)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ApiError(f"token endpoint unreachable: {exc!r}", retryable=True) from exc
        code = int(data.get("errcode", 0) or 0)
        if code or not data.get("access_token"):
            errmsg = data.get("errmsg", "no access_token in the answer")
            log.warning("wechat.token_refused", url=self._url, errcode=code, errmsg=errmsg)
            # 40013/40125/40164/41002/41004: wrong appid/secret or IP not whitelisted
            raise TokenRefused(f"token refused: {code} {errmsg}", code=code, retryable=code in (-1, 45009))
        log.info("wechat.token_fetched", url=self._url, expires_in=data.get("expires_in"))
        return str(data["access_token"]), float(data.get("expires_in", 7200))


def oa_token_cache(
    http: aiohttp.ClientSession, api_base: str, app_id: str, app_secret: str, **kw: Any
) -> AccessTokenCache:
    """Official Account: `GET /cgi-bin/token?grant_type=client_credential&appid&secret`."""
    params = {"grant_type": "client_credential", "appid": app_id, "secret": app_secret}
    return AccessTokenCache(http, f"{api_base.rstrip('/')}/cgi-bin/token", params, **kw)


def wecom_token_cache(
    http: aiohttp.ClientSession, api_base: str, corp_id: str, secret: str, **kw: Any
) -> AccessTokenCache:
    """WeCom: `GET /cgi-bin/gettoken?corpid&corpsecret`."""
    params = {"corpid": corp_id, "corpsecret": secret}
    return AccessTokenCache(http, f"{api_base.rstrip('/')}/cgi-bin/gettoken", params, **kw)

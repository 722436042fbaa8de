"""Signed calls to the Xiaohongshu partner API (sends, the token, pulls); failures come back as `SendError`s."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from csgw.gateway.channel import SendError
from csgw.gateway.shared_token import SharedToken, TokenBusy
from csgw.plugins.xiaohongshu.adapter import XiaohongshuAdapter
from csgw.plugins.xiaohongshu.signing import open_platform_sign
from csgw.plugins.xiaohongshu.throttle import Throttle
from csgw.plugins.xiaohongshu.token import TokenCache

DEFAULT_RATE_LIMIT_PAUSE = 5.0


def _retry_after(response: aiohttp.ClientResponse) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return DEFAULT_RATE_LIMIT_PAUSE


class XiaohongshuApi:
    def __init__(
        self, http: aiohttp.ClientSession, *, api_base: str, app_key: str, app_secret: str,
        adapter: XiaohongshuAdapter, throttle: Throttle, timeout: float = 10.0,
        token_refresh_margin: float = 300.0, shared_token: SharedToken | None = None,
    ) -> None:
        self.http = http
        self.api_base = api_base.rstrip("/")
        self.app_key = app_key
        self.app_secret = app_secret
        self.adapter = adapter
        self.throttle = throttle
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.tokens = (TokenCache(self._fetch_token, refresh_margin=token_refresh_margin, shared=shared_token)
                       if adapter.token_path else None)

    def signed_query(self, path: str, token: str | None = None) -> dict[str, str]:
        a = self.adapter
        params = {a.app_key_param: self.app_key, a.api_timestamp_param: str(int(time.time()))}
        if token is not None:
            params[a.token_param] = token
        return {**params, a.sign_param: open_platform_sign(path, params, self.app_secret)}

    async def send(self, user_id: str, request_id: str, *, text: str = "", image_url: str = "") -> dict[str, Any]:
        body = self.adapter.send_body(user_id, request_id, text=text, image_url=image_url)
        return await self.call(self.adapter.send_path, body)

    async def pull(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str, bool]:
        """One page of messages since `cursor`: (messages, next cursor, has more)."""
        a = self.adapter
        return a.pull_page(await self.call(a.pull_path, a.pull_body(cursor, limit)))

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to `{api_base}{path}` signed (with the access token if one is configured);
        the decoded answer, or SendError. A refused token is renewed once and the call retried once."""
        if self.tokens is None:
            return self._checked(path, await self._post(path, body))
        try:
            token = await self.tokens.get()
            answer = await self._post(path, body, token)
            if self._token_refused(answer):
                answer = await self._post(path, body, await self.tokens.refresh(token))
        except TokenBusy as busy:
            raise SendError(str(busy), retryable=True, code="token_busy") from busy
        return self._checked(path, answer)

    def _token_refused(self, answer: Any) -> bool:
        error = self.adapter.answer_error(answer)
        return error is not None and error[0] in self.adapter.token_error_codes

    async def _fetch_token(self) -> tuple[str, float]:
        path = self.adapter.token_path
        answer = self._checked(path, await self._post(path, dict(self.adapter.token_body), throttled=False))
        found = self.adapter.token_from(answer)
        if found is None:
            raise SendError(f"{path}: the answer carries no {self.adapter.token_field}",
                            retryable=False, code="no_token")
        return found

    async def _post(self, path: str, body: dict[str, Any], token: str | None = None, *,
                    throttled: bool = True) -> Any:
        """The decoded answer of one signed POST; HTTP-level failures raise SendError."""
        if throttled and not await self.throttle.slot():
            raise SendError(f"rate limited for {self.throttle.held_for():.0f} s more",
                            retryable=True, code="rate_limited")
        try:
            async with self.http.post(f"{self.api_base}{path}", params=self.signed_query(path, token),
                                      json=body, timeout=self.timeout) as response:
                if response.status == 429:
                    self.throttle.hold(_retry_after(response))
                    raise SendError("the platform rate-limited us", retryable=True, code="rate_limited")
                if response.status >= 500:
                    raise SendError(f"{path}: HTTP {response.status}", retryable=True, code=str(response.status))
                try:
                    answer = await response.json(content_type=None)
                except ValueError:
                    answer = None
                if response.status >= 400 and answer is None:
                    raise SendError(f"{path}: HTTP {response.status}", retryable=False, code=str(response.status))
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise SendError(f"{path}: platform unreachable: {exc!r}", retryable=True, code="unreachable") from exc
        return answer

    def _checked(self, path: str, answer: Any) -> dict[str, Any]:
        error = self.adapter.answer_error(answer)
        if error is None:
            return answer
        code, message = error
        if code in self.adapter.rate_limit_codes:
            self.throttle.hold(DEFAULT_RATE_LIMIT_PAUSE)
            raise SendError(f"{path}: rate limited ({message})", retryable=True, code="rate_limited")
        if code in self.adapter.token_error_codes:  # refused even just after renewal: try again later
            raise SendError(f"{path}: access token refused ({message})", retryable=True, code=code)
        if code in self.adapter.sign_error_codes:
            # a wrong app secret or a skewed clock: retrying the same request will not help
            raise SendError(f"{path}: signature refused ({message}); check app_key, app_secret and the clock",
                            retryable=False, code=code)
        raise SendError(f"{path}: {code} {message}".strip(), retryable=False, code=code)

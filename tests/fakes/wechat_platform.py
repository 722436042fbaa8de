"""A fake WeChat platform on 127.0.0.1: the APIs a channel calls, and WeChat's pushes to it.

One aiohttp server plays both platforms; each side lives in its own module and is reached
through an attribute: `platform.oa` (Official Account, `tests/fakes/wechat_oa.py`) and
`platform.kf` (WeCom customer service, `tests/fakes/wecom_kf.py`). This module holds what they
share: the server, the clock, access tokens, injected failures and the log of calls.

For plugin authors: point a channel's `api_base` at `platform.url`, tell the platform where
the channel's webhook is, and play the customer::

    async with FakeWechatPlatform() as platform:
        platform.oa.add_app("wx1", "secret", token="tok", callback=f"{gw.url}/webhooks/wechat_oa/shop")
        delivery = await platform.oa.user_says("wx1", "openid-1", "你好")  # signed push, passive reply
        platform.kf.add_corp("ww1", "kfsecret", open_kfids=["wk1"], token="t", encoding_aes_key=KEY)
        await platform.kf.user_says("wk1", "ext-1", "hi")  # queued for sync_msg, then pushed
        platform.fail_next("/cgi-bin/message/custom/send", errcode=-1)  # or status=502, hang=True
        platform.calls("/cgi-bin/message/custom/send")  # what it received, in order

Tokens expire (`advance(seconds)` moves the fake's clock) and can be invalidated
(`invalidate_tokens()` -> 40001, `expire_tokens()` -> 42001). Errcodes follow the platform
documentation; where it names none (bad cursor, bad welcome code) the fake answers 40097
"invalid args", and 95007 for a bad sync token.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.wechat_http import CALL, Call, errcode
from tests.fakes.wechat_oa import FakeOfficialAccount
from tests.fakes.wecom_kf import FakeWecomKf


@dataclass
class _Failure:
    status: int | None = None
    errcode: int | None = None
    errmsg: str = "injected failure"
    hang: bool = False
    lose_answer: bool = False


@dataclass
class _Token:
    kind: str  # oa or wecom
    owner: str  # appid or corpid
    expires_at: float
    revoked: bool = False


class FakeWechatPlatform:
    def __init__(self, *, token_ttl: int = 7200) -> None:
        self.token_ttl = token_ttl
        self.offset = 0.0
        self.tokens: dict[str, _Token] = {}
        self.token_fetches: list[str] = []
        self.received: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""
        self.oa = FakeOfficialAccount(self)
        self.kf = FakeWecomKf(self)

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(middlewares=[self._middleware], client_max_size=20 * 1024 * 1024)
        self.oa.add_routes(app.router)
        self.kf.add_routes(app.router)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._http = aiohttp.ClientSession()
        return self.url

    async def close(self) -> None:
        self._release.set()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeWechatPlatform:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- driving the fake from a test ------------------------------------------------------
    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock (token expiry, 48-hour windows, sync tokens, welcome codes)."""
        self.offset += seconds

    def invalidate_tokens(self) -> None:
        """Every issued token answers 40001 from now on (as after a secret reset)."""
        for token in self.tokens.values():
            token.revoked = True

    def expire_tokens(self) -> None:
        """Every issued token answers 42001 from now on."""
        for token in self.tokens.values():
            token.expires_at = min(token.expires_at, self.now() - 1)

    def fail_next(
        self,
        path: str,
        *,
        status: int | None = None,
        errcode: int | None = None,
        errmsg: str = "injected failure",
        hang: bool = False,
        lose_answer: bool = False,
        times: int = 1,
    ) -> None:
        """The next `times` requests to `path` fail: HTTP `status`, an `errcode`, never answer
        (`hang`), or are carried out and then answered with a 502 (`lose_answer`)."""
        for _ in range(times):
            self._failures[path].append(_Failure(status, errcode, errmsg, hang, lose_answer))

    def calls(self, path: str | None = None) -> list[Call]:
        return [c for c in self.received if path is None or c.path == path]

    # --- what the sides share --------------------------------------------------------------
    def issue_token(self, kind: str, owner: str) -> web.Response:
        now = self.now()
        for token in self.tokens.values():  # the old token keeps working for 5 minutes
            if token.kind == kind and token.owner == owner:
                token.expires_at = min(token.expires_at, now + 300)
        value = secrets.token_urlsafe(96)
        self.tokens[value] = _Token(kind, owner, now + self.token_ttl)
        self.token_fetches.append(owner)
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "access_token": value, "expires_in": self.token_ttl}
        )

    def authorize(self, request: web.Request, kind: str) -> tuple[str, web.Response | None]:
        """(owner, None) for a valid token of `kind`, else ("", the documented error)."""
        token = self.tokens.get(request.query.get("access_token", ""))
        if token is None or token.kind != kind:
            return "", errcode(40014, "invalid access_token")
        if token.revoked:
            return "", errcode(40001, "invalid credential, access_token is invalid or not latest")
        if token.expires_at <= self.now():
            return "", errcode(42001, "access_token expired")
        return token.owner, None

    async def push(self, method: str, url: str, params: dict[str, str], body: str = "") -> tuple[int, str]:
        """Send a request to a channel's webhook, as WeChat does."""
        assert self._http is not None, "platform not started"
        async with self._http.request(method, url, params=params, data=body.encode() or None,
                                      headers={"Content-Type": "text/xml"}) as resp:
            return resp.status, await resp.text()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        call = Call(request.method, request.path, dict(request.query))
        if request.content_type == "application/json" or (
            request.can_read_body and request.content_type in ("", "text/plain")
        ):
            try:
                call.json = await request.json()
            except ValueError:
                return errcode(47001, "data format error")
        elif request.content_type.startswith("multipart/"):
            post = await request.post()
            call.form = {k: v.file.read() if hasattr(v, "file") else v for k, v in post.items()}
        request[CALL] = call
        self.received.append(call)
        queue = self._failures.get(request.path)
        failure = queue.popleft() if queue else None
        if failure is None:
            return await handler(request)
        if failure.hang:
            await self._release.wait()
        if failure.lose_answer:
            await handler(request)
            return web.Response(status=502, text="answer lost")
        if failure.status is not None:
            return web.Response(status=failure.status, text="injected")
        if failure.errcode is not None:
            return errcode(failure.errcode, failure.errmsg)
        return await handler(request)

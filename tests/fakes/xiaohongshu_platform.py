"""A fake of the Xiaohongshu side: the signed partner API (a real aiohttp server on 127.0.0.1)
and the encrypted pushes the platform sends to a shop's webhook.

    async with FakeXiaohongshuPlatform(app_key="ak", app_secret="as", require_token=True) as platform:
        channel_config["api_base"] = platform.base_url
        query, body = encrypted_push({"message_id": "m1", ...}, token=..., encoding_aes_key=..., receiver_id="ak")
        platform.fail_next(status=502)          # or rate_limit_next(retry_after=1), fail_next(path=PULL_PATH)
        platform.hold({"message_id": "m2", ...})  # a message the pull endpoint returns
        platform.expire_tokens()                # every token issued so far is now refused as expired
        sent = await platform.wait_sent(1)      # the sends it accepted, in order

It checks what the real platform is documented to check: `app-key`, a `timestamp` within the
window, and `sign` = MD5 hex of `path?k=v&…` (keys sorted) + app secret. The token endpoint, the
pull endpoint, the error codes and the wire format of pushes and sends follow csgw's default
adapter, which is itself an assumption (see docs/channels/xiaohongshu.md).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from wechatpy.crypto import PrpCrypto

SIGN_ERROR = -1002
TOKEN_INVALID = -1004
TOKEN_EXPIRED = -1005
RATE_LIMITED = 429
SEND_PATH = "/api/im/message/send"
TOKEN_PATH = "/api/oauth/token"
PULL_PATH = "/api/im/message/list"


@dataclass
class Call:
    """One request the fake received, when, and how it answered."""

    path: str
    query: dict[str, str]
    body: Any
    at: float = field(default_factory=time.monotonic)
    status: int = 200
    code: int = 0


@dataclass
class _Failure:
    status: int | None = None
    code: int | None = None
    retry_after: float | None = None
    passes: bool = False  # lets the call through: how `after` delays a failure


def _md5_sign(path: str, params: dict[str, str], secret: str) -> str:
    query = "&".join(f"{k}={params[k]}" for k in sorted(params))
    return hashlib.md5(f"{path}?{query}{secret}".encode()).hexdigest()


class FakeXiaohongshuPlatform:
    def __init__(self, *, app_key: str = "ak", app_secret: str = "as", send_path: str = SEND_PATH,
                 timestamp_window: float = 300, require_token: bool = False, token_lifetime: int = 7200) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.send_path = send_path
        self.timestamp_window = timestamp_window
        self.require_token = require_token
        self.token_lifetime = token_lifetime
        self.received: list[Call] = []
        self.sent: list[dict[str, Any]] = []
        self.held: list[dict[str, Any]] = []  # what the pull endpoint serves, oldest first
        self.tokens: dict[str, bool] = {}  # token -> still valid
        self._request_ids: set[str] = set()
        self._failures: dict[str, deque[_Failure]] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post(self.send_path, self._send)
        app.router.add_post(TOKEN_PATH, self._token)
        app.router.add_post(PULL_PATH, self._pull)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeXiaohongshuPlatform:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- driving the fake from a test ------------------------------------------------------
    def fail_next(self, *, status: int | None = None, code: int | None = None,
                  retry_after: float | None = None, times: int = 1, path: str | None = None,
                  after: int = 0) -> None:
        """After `after` good calls, the next `times` calls of `path` (default: sends) fail with
        HTTP `status` or an error `code`."""
        queue = self._failures.setdefault(path or self.send_path, deque())
        queue.extend(_Failure(passes=True) for _ in range(after))
        queue.extend(_Failure(status, code, retry_after) for _ in range(times))

    def rate_limit_next(self, retry_after: float = 1, path: str | None = None) -> None:
        self.fail_next(status=429, retry_after=retry_after, path=path)

    def hold(self, *messages: dict[str, Any]) -> None:
        """Messages the platform keeps for the pull endpoint (whether or not they were also pushed)."""
        self.held.extend(messages)

    def expire_tokens(self) -> None:
        self.tokens = dict.fromkeys(self.tokens, False)

    def calls(self, path: str) -> list[Call]:
        return [call for call in self.received if call.path == path]

    async def wait_sent(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.sent) >= count)

        await asyncio.wait_for(reached(), timeout)
        return self.sent

    # --- the API ---------------------------------------------------------------------------
    def _answer(self, call: Call, status: int = 200, code: int = 0, msg: str = "ok",
                headers: dict[str, str] | None = None, data: Any = None) -> web.Response:
        call.status, call.code = status, code
        body = {"success": code == 0 and status < 400, "code": code, "msg": msg}
        if data is not None:
            body["data"] = data
        return web.json_response(body, status=status, headers=headers)

    def _signature_problem(self, path: str, query: dict[str, str]) -> str | None:
        params = {k: v for k, v in query.items() if k != "sign"}
        if params.get("app-key") != self.app_key:
            return "unknown app-key"
        try:
            skew = abs(time.time() - int(params.get("timestamp", "")))
        except ValueError:
            return "timestamp missing"
        if skew > self.timestamp_window:
            return "timestamp outside the window"
        if query.get("sign") != _md5_sign(path, params, self.app_secret):
            return "sign mismatch"
        return None

    async def _refused(self, request: web.Request, *, needs_token: bool = True) -> tuple[Call, web.Response | None]:
        """The call recorded, and the answer when its signature, token or an injected failure refuses it."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        call = Call(request.path, dict(request.query), body)
        self.received.append(call)
        problem = self._signature_problem(request.path, call.query)
        if problem:
            return call, self._answer(call, code=SIGN_ERROR, msg=problem)
        if needs_token and self.require_token:
            valid = self.tokens.get(call.query.get("access-token", ""))
            if valid is None:
                return call, self._answer(call, code=TOKEN_INVALID, msg="access token invalid")
            if not valid:
                return call, self._answer(call, code=TOKEN_EXPIRED, msg="access token expired")
        queue = self._failures.get(request.path)
        failure = queue.popleft() if queue else None
        if failure is not None and not failure.passes:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else None
            if failure.status is not None:
                return call, self._answer(call, status=failure.status, code=failure.status, msg="injected",
                                          headers=headers)
            return call, self._answer(call, code=failure.code or -1, msg="injected")
        return call, None

    async def _token(self, request: web.Request) -> web.Response:
        call, refused = await self._refused(request, needs_token=False)
        if refused is not None:
            return refused
        token = secrets.token_urlsafe(24)
        self.tokens[token] = True
        return self._answer(call, data={"access_token": token, "expires_in": self.token_lifetime})

    async def _pull(self, request: web.Request) -> web.Response:
        call, refused = await self._refused(request)
        if refused is not None:
            return refused
        body = call.body if isinstance(call.body, dict) else {}
        cursor = str(body.get("cursor") or "c0")
        if not cursor.startswith("c") or not cursor[1:].isdigit():
            return self._answer(call, status=400, code=-1, msg="bad cursor")
        start, limit = int(cursor[1:]), int(body.get("limit") or 100)
        page = self.held[start:start + limit]
        end = start + len(page)
        return self._answer(call, data={"messages": page, "next_cursor": f"c{end}",
                                        "has_more": end < len(self.held)})

    async def _send(self, request: web.Request) -> web.Response:
        call, refused = await self._refused(request)
        if refused is not None:
            return refused
        body = call.body
        if not isinstance(body, dict) or not body.get("to_user_id") or not body.get("content"):
            return self._answer(call, status=400, code=-1, msg="to_user_id and content are required")
        request_id = str(body.get("request_id", ""))
        if request_id not in self._request_ids:  # the platform is idempotent per request id
            self._request_ids.add(request_id)
            self.sent.append(body)
            async with self._changed:
                self._changed.notify_all()
        return self._answer(call)


# --- pushes to the shop's webhook --------------------------------------------------------------
def _sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def verification_query(token: str, echostr: str, *, good: bool = True) -> dict[str, str]:
    """The GET the platform sends when the shop saves its push URL."""
    timestamp, nonce = str(int(time.time())), secrets.token_hex(4)
    signature = _sha1(token, timestamp, nonce) if good else "0" * 40
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce, "echostr": echostr}


def signed_push_query(token: str, encrypted: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The query of a push: msg_signature is SHA-1 over token, timestamp, nonce and the ciphertext."""
    stamp, nonce = str(timestamp if timestamp is not None else int(time.time())), secrets.token_hex(4)
    return {"msg_signature": _sha1(token, stamp, nonce, encrypted), "timestamp": stamp, "nonce": nonce}


def encrypted_push(
    message: dict[str, Any] | str, *, token: str, encoding_aes_key: str, receiver_id: str,
    timestamp: int | None = None, tamper: bool = False,
) -> tuple[dict[str, str], dict[str, str]]:
    """(query, JSON body) of a push: `message` (JSON-encoded unless a str) encrypted WeChat-style."""
    key = base64.b64decode(encoding_aes_key + "=")
    plain = message if isinstance(message, str) else json.dumps(message, ensure_ascii=False)
    encrypted = PrpCrypto(key).encrypt(plain, receiver_id).decode()
    query = signed_push_query(token, encrypted, timestamp=timestamp)
    if tamper:
        query["msg_signature"] = query["msg_signature"][::-1]
    return query, {"Encrypt": encrypted}

"""The Official Account side of the fake WeChat platform: the API a channel calls (token,
customer-service send, typing, media, user info) and WeChat's signed pushes to the webhook.

Pushes are built and, in safe mode, encrypted with wechatpy, and passive replies decrypted
with it: an implementation independent of csgw's, so the same mistake cannot hide on both sides.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from aiohttp import web
from wechatpy.crypto import WeChatCrypto

from tests.fakes.wechat_http import Delivery, call_of, errcode, xml_fields

if TYPE_CHECKING:
    from tests.fakes.wechat_platform import FakeWechatPlatform

WINDOW_SECONDS = 48 * 3600
WINDOW_QUOTA = 5
EVENT_WINDOW_SECONDS = 60
EVENT_QUOTA = 3


@dataclass
class App:
    app_id: str
    secret: str
    token: str
    encoding_aes_key: str | None  # set: pushes go out in safe mode, encrypted with this key
    original_id: str
    callback: str  # the URL pasted into the console: where pushes go


@dataclass
class Window:
    opened_at: float
    seconds: float
    quota: int


@dataclass(frozen=True)
class Push:
    """One delivery as WeChat makes it; deliver it again for WeChat's retries (same query)."""

    app_id: str
    query: dict[str, str]
    body: str


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


class FakeOfficialAccount:
    def __init__(self, core: FakeWechatPlatform) -> None:
        self.core = core
        self.apps: dict[str, App] = {}
        self.users: dict[tuple[str, str], dict[str, Any]] = {}
        self.windows: dict[tuple[str, str], Window] = {}
        self.last_interaction: dict[tuple[str, str], float] = {}
        self.media: dict[str, bytes] = {}
        self.sent: list[dict[str, Any]] = []  # accepted customer-service sends, in order
        self.typing: list[tuple[str, str]] = []  # (openid, command)
        self._msg_ids = 10_000_000

    # --- set-up ----------------------------------------------------------------------------
    def add_app(self, app_id: str, secret: str, *, token: str = "token", encoding_aes_key: str | None = None,
                original_id: str = "gh_0123456789ab", callback: str = "") -> App:
        self.apps[app_id] = App(app_id, secret, token, encoding_aes_key, original_id, callback)
        return self.apps[app_id]

    def add_user(self, app_id: str, openid: str, **profile: Any) -> None:
        self.users[(app_id, openid)] = {"subscribe": 1, "openid": openid, **profile}

    def user_message(self, app_id: str, openid: str) -> None:
        """The user wrote: 5 sends within 48 hours."""
        self.windows[(app_id, openid)] = Window(self.core.now(), WINDOW_SECONDS, WINDOW_QUOTA)
        self.last_interaction[(app_id, openid)] = self.core.now()

    def user_event(self, app_id: str, openid: str) -> None:
        """The user followed, clicked a menu or scanned: 3 sends within 1 minute."""
        self.windows[(app_id, openid)] = Window(self.core.now(), EVENT_WINDOW_SECONDS, EVENT_QUOTA)
        self.last_interaction[(app_id, openid)] = self.core.now()

    # --- WeChat pushing to the webhook -----------------------------------------------------
    def message(self, app_id: str, openid: str, text: str, *, msg_id: int | None = None,
                timestamp: int | None = None) -> Push:
        """A text message push (MsgId unique unless given)."""
        if msg_id is None:
            self._msg_ids += 1
            msg_id = self._msg_ids
        return self._push(app_id, openid, "text", f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId>",
                          timestamp)

    def event(self, app_id: str, openid: str, event: str, *, event_key: str = "",
              timestamp: int | None = None) -> Push:
        return self._push(app_id, openid, "event",
                          f"<Event><![CDATA[{event}]]></Event><EventKey><![CDATA[{event_key}]]></EventKey>",
                          timestamp)

    def _push(self, app_id: str, openid: str, msg_type: str, body: str, timestamp: int | None) -> Push:
        app = self.apps[app_id]
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = str(secrets.randbelow(10**10))
        xml = (f"<xml><ToUserName><![CDATA[{app.original_id}]]></ToUserName>"
               f"<FromUserName><![CDATA[{escape(openid)}]]></FromUserName><CreateTime>{ts}</CreateTime>"
               f"<MsgType><![CDATA[{msg_type}]]></MsgType>{body}</xml>")
        query = {"signature": signature(app.token, ts, nonce), "timestamp": ts, "nonce": nonce,
                 "openid": openid}
        if app.encoding_aes_key:
            envelope = xml_fields(WeChatCrypto(app.token, app.encoding_aes_key, app_id)
                                  .encrypt_message(xml, nonce, ts))
            xml = (f"<xml><ToUserName><![CDATA[{app.original_id}]]></ToUserName>"
                   f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>")
            query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        return Push(app_id, query, xml)

    async def deliver(self, push: Push) -> Delivery:
        """POST the push to the app's callback; decode (and in safe mode decrypt) the reply."""
        app = self.apps[push.app_id]
        status, body = await self.core.push("POST", app.callback, push.query, push.body)
        if status != 200 or body.strip() in ("", "success"):
            return Delivery(status, body)
        fields = xml_fields(body)
        if app.encoding_aes_key and "Encrypt" in fields:
            plain = WeChatCrypto(app.token, app.encoding_aes_key, app.app_id).decrypt_message(
                body, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"])
            fields = xml_fields(plain)
        return Delivery(status, body, fields)

    async def user_says(self, app_id: str, openid: str, text: str, **kw: Any) -> Delivery:
        """The user sends a text: the reply window opens and WeChat pushes it."""
        self.user_message(app_id, openid)
        return await self.deliver(self.message(app_id, openid, text, **kw))

    async def user_follows(self, app_id: str, openid: str) -> Delivery:
        self.user_event(app_id, openid)
        return await self.deliver(self.event(app_id, openid, "subscribe"))

    async def verify_url(self, app_id: str, echostr: str = "5837397520", *, token: str | None = None) -> tuple[int, str]:
        """What the console does when the URL is saved: a signed GET that must echo `echostr`."""
        app = self.apps[app_id]
        ts, nonce = str(int(time.time())), "1514711492"
        query = {"signature": signature(token or app.token, ts, nonce), "timestamp": ts, "nonce": nonce,
                 "echostr": echostr}
        return await self.core.push("GET", app.callback, query)

    # --- the API ---------------------------------------------------------------------------
    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/cgi-bin/token", self._token)
        router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        router.add_post("/cgi-bin/message/custom/typing", self._typing)
        router.add_post("/cgi-bin/media/upload", self._media_upload)
        router.add_get("/cgi-bin/user/info", self._user_info)

    async def _token(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("grant_type") != "client_credential":
            return errcode(40002, "invalid grant_type")
        app = self.apps.get(q.get("appid", ""))
        if app is None:
            return errcode(40013, "invalid appid")
        if app.secret != q.get("secret"):
            return errcode(40125, "invalid appsecret")
        return self.core.issue_token("oa", app.app_id)

    async def _custom_send(self, request: web.Request) -> web.Response:
        app_id, error = self.core.authorize(request, "oa")
        if error:
            return error
        body = call_of(request).json or {}
        msgtype = body.get("msgtype")
        if msgtype not in ("text", "image", "voice", "video", "music", "news", "mpnews", "msgmenu"):
            return errcode(40008, "invalid message type")
        if msgtype == "image" and body.get("image", {}).get("media_id") not in self.media:
            return errcode(40007, "invalid media_id")
        window = self.windows.get((app_id, body.get("touser", "")))
        if window is None or self.core.now() - window.opened_at > window.seconds:
            return errcode(45015, "response out of time limit or subscription is canceled")
        if window.quota <= 0:
            return errcode(45047, "out of response count limit")
        window.quota -= 1
        self.sent.append({"app_id": app_id, **body})
        return errcode(0, "ok")

    async def _typing(self, request: web.Request) -> web.Response:
        app_id, error = self.core.authorize(request, "oa")
        if error:
            return error
        body = call_of(request).json or {}
        if body.get("command") not in ("Typing", "CancelTyping"):
            return errcode(40097, "invalid args")
        last = self.last_interaction.get((app_id, body.get("touser", "")))
        if last is None or self.core.now() - last > 30:
            return errcode(45080, "has not sent message to user in 30 seconds")
        self.typing.append((body["touser"], body["command"]))
        return errcode(0, "ok")

    async def _media_upload(self, request: web.Request) -> web.Response:
        _, error = self.core.authorize(request, "oa")
        if error:
            return error
        kind = request.query.get("type")
        if kind not in ("image", "voice", "video", "thumb"):
            return errcode(40004, "invalid media type")
        data = call_of(request).form.get("media")
        if not isinstance(data, bytes) or not data:
            return errcode(41005, "media data missing")
        media_id = secrets.token_urlsafe(24)
        self.media[media_id] = data
        return web.json_response({"type": kind, "media_id": media_id, "created_at": int(self.core.now())})

    async def _user_info(self, request: web.Request) -> web.Response:
        app_id, error = self.core.authorize(request, "oa")
        if error:
            return error
        user = self.users.get((app_id, request.query.get("openid", "")))
        if user is None:
            return errcode(40003, "invalid openid")
        return web.json_response(user)

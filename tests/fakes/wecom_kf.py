"""The WeCom customer-service (微信客服) side of the fake WeChat platform: gettoken, sync_msg,
send_msg (idempotent by msgid), welcome messages, service state, and the encrypted pushes
(`kf_msg_or_event`) and URL verification WeCom sends to the webhook, made with wechatpy."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from wechatpy.enterprise.crypto import PrpCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto

from tests.fakes.wechat_http import Delivery, call_of, errcode, xml_fields

if TYPE_CHECKING:
    from tests.fakes.wechat_platform import FakeWechatPlatform

WINDOW_SECONDS = 48 * 3600
WINDOW_QUOTA = 5
SYNC_TOKEN_TTL = 600
HISTORY_SECONDS = 3 * 86400
WELCOME_SECONDS = 20


@dataclass
class Corp:
    corp_id: str
    secret: str
    token: str
    encoding_aes_key: str
    callback: str


@dataclass
class Window:
    opened_at: float
    quota: int


class FakeWecomKf:
    def __init__(self, core: FakeWechatPlatform) -> None:
        self.core = core
        self.corps: dict[str, Corp] = {}
        self.owner: dict[str, str] = {}  # open_kfid -> corpid
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.sync_tokens: dict[str, tuple[str, float]] = {}
        self.by_msgid: dict[tuple[str, str], dict[str, Any]] = {}
        self.windows: dict[tuple[str, str], Window] = {}
        self.service_states: dict[tuple[str, str], tuple[int, str]] = {}
        self.receiving_servicers: set[str] = set()
        self.welcome_codes: dict[str, tuple[str, str, float]] = {}  # code -> open_kfid, user, at
        self.empty_pages: dict[str, int] = defaultdict(int)
        self.sent: list[dict[str, Any]] = []  # accepted sends and welcomes, in order

    # --- set-up ----------------------------------------------------------------------------
    def add_corp(self, corp_id: str, secret: str, *, open_kfids: tuple[str, ...] | list[str] = (),
                 token: str = "token", encoding_aes_key: str = "", callback: str = "") -> Corp:
        self.corps[corp_id] = Corp(corp_id, secret, token, encoding_aes_key, callback)
        for kfid in open_kfids:
            self.owner[kfid] = corp_id
        return self.corps[corp_id]

    def add_message(self, open_kfid: str, external_userid: str, *, text: str | None = None,
                    msgtype: str = "text", body: dict[str, Any] | None = None, origin: int = 3,
                    send_time: int | None = None) -> dict[str, Any]:
        """A message that sync_msg will return; a customer's (origin 3) opens the 48-hour window."""
        item = {
            "msgid": secrets.token_hex(8),
            "open_kfid": open_kfid,
            "external_userid": external_userid,
            "send_time": int(send_time if send_time is not None else self.core.now()),
            "origin": origin,
            "msgtype": msgtype,
            msgtype: body if body is not None else {"content": text or ""},
        }
        self.messages[open_kfid].append(item)
        if origin == 3:
            self.windows[(open_kfid, external_userid)] = Window(self.core.now(), WINDOW_QUOTA)
            if self.service_states.get((open_kfid, external_userid), (0, ""))[0] == 4:
                self.service_states[(open_kfid, external_userid)] = (0, "")
        return item

    def add_event(self, open_kfid: str, event: dict[str, Any]) -> dict[str, Any]:
        """A system event item (origin 4); enter_session gets a fresh welcome_code."""
        event = {"open_kfid": open_kfid, **event}
        if event.get("event_type") == "enter_session" and "welcome_code" not in event:
            event["welcome_code"] = secrets.token_hex(8)
        if "welcome_code" in event:
            self.welcome_codes[event["welcome_code"]] = (open_kfid, event.get("external_userid", ""),
                                                         self.core.now())
        item = {"msgid": secrets.token_hex(8), "send_time": int(self.core.now()), "origin": 4,
                "msgtype": "event", "event": event}
        self.messages[open_kfid].append(item)
        return item

    def sync_token(self, open_kfid: str) -> str:
        """The `Token` a kf_msg_or_event push carries (valid 10 minutes)."""
        token = secrets.token_hex(12)
        self.sync_tokens[token] = (open_kfid, self.core.now() + SYNC_TOKEN_TTL)
        return token

    # --- WeCom pushing to the webhook ------------------------------------------------------
    async def notify(self, open_kfid: str) -> Delivery:
        """The encrypted `kf_msg_or_event` push that tells the channel to pull."""
        corp = self.corps[self.owner[open_kfid]]
        event = (f"<xml><ToUserName><![CDATA[{corp.corp_id}]]></ToUserName><CreateTime>{int(time.time())}"
                 "</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>"
                 f"<Token><![CDATA[{self.sync_token(open_kfid)}]]></Token>"
                 f"<OpenKfId><![CDATA[{open_kfid}]]></OpenKfId></xml>")
        ts, nonce = str(int(time.time())), str(secrets.randbelow(10**10))
        envelope = xml_fields(WeComCrypto(corp.token, corp.encoding_aes_key, corp.corp_id)
                              .encrypt_message(event, nonce, ts))
        body = (f"<xml><ToUserName><![CDATA[{corp.corp_id}]]></ToUserName>"
                f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>")
        query = {"msg_signature": envelope["MsgSignature"], "timestamp": ts, "nonce": nonce}
        status, text = await self.core.push("POST", corp.callback, query, body)
        return Delivery(status, text)

    async def user_says(self, open_kfid: str, external_userid: str, text: str) -> Delivery:
        self.add_message(open_kfid, external_userid, text=text)
        return await self.notify(open_kfid)

    async def verify_url(self, corp_id: str, plain: str = "8216452071") -> tuple[int, str]:
        """The callback check: an encrypted echostr the channel must decrypt and echo."""
        corp = self.corps[corp_id]
        key = WeComCrypto(corp.token, corp.encoding_aes_key, corp_id).key
        echostr = PrpCrypto(key).encrypt(plain, corp_id).decode()
        ts, nonce = str(int(time.time())), "1372623149"
        signature = hashlib.sha1("".join(sorted([corp.token, ts, nonce, echostr])).encode()).hexdigest()
        query = {"msg_signature": signature, "timestamp": ts, "nonce": nonce, "echostr": echostr}
        return await self.core.push("GET", corp.callback, query)

    # --- the API ---------------------------------------------------------------------------
    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/cgi-bin/gettoken", self._token)
        router.add_post("/cgi-bin/kf/sync_msg", self._sync)
        router.add_post("/cgi-bin/kf/send_msg", self._send)
        router.add_post("/cgi-bin/kf/send_msg_on_event", self._send_on_event)
        router.add_post("/cgi-bin/kf/service_state/get", self._state_get)
        router.add_post("/cgi-bin/kf/service_state/trans", self._state_trans)

    async def _token(self, request: web.Request) -> web.Response:
        q = request.query
        corp = self.corps.get(q.get("corpid", ""))
        if corp is None:
            return errcode(40013, "invalid corpid")
        if corp.secret != q.get("corpsecret"):
            return errcode(40001, "invalid credential")
        return self.core.issue_token("wecom", corp.corp_id)

    def _authorize(self, request: web.Request, open_kfid: str) -> web.Response | None:
        corp_id, error = self.core.authorize(request, "wecom")
        if error:
            return error
        if self.owner.get(open_kfid) != corp_id:
            return errcode(95000, "invalid open_kfid")
        return None

    async def _sync(self, request: web.Request) -> web.Response:
        body = call_of(request).json or {}
        open_kfid = body.get("open_kfid", "")
        if error := self._authorize(request, open_kfid):
            return error
        limit = int(body.get("limit", 1000))
        if not 1 <= limit <= 1000:
            return errcode(40097, "invalid limit")
        if body.get("token"):
            kfid, until = self.sync_tokens.get(body["token"], ("", 0.0))
            if kfid != open_kfid or until < self.core.now():
                return errcode(95007, "invalid msg token")
        items = self.messages[open_kfid]
        cursor = body.get("cursor")
        if cursor:
            if not cursor.startswith("c") or not cursor[1:].isdigit() or int(cursor[1:]) > len(items):
                return errcode(40097, "invalid cursor")
            start = int(cursor[1:])
        else:
            cutoff = self.core.now() - HISTORY_SECONDS
            start = next((i for i, m in enumerate(items) if m["send_time"] >= cutoff), len(items))
        if self.empty_pages[open_kfid] > 0:
            self.empty_pages[open_kfid] -= 1
            return web.json_response({"errcode": 0, "errmsg": "ok", "next_cursor": f"c{start}",
                                      "has_more": 1, "msg_list": []})
        page = items[start:start + limit]
        end = start + len(page)
        return web.json_response({"errcode": 0, "errmsg": "ok", "next_cursor": f"c{end}",
                                  "has_more": int(end < len(items)), "msg_list": page})

    def _may_send(self, open_kfid: str, user: str) -> web.Response | None:
        if self.service_states.get((open_kfid, user), (0, ""))[0] not in (0, 1):
            return errcode(95018, "invalid session state for sending")
        window = self.windows.get((open_kfid, user))
        if window is None or self.core.now() - window.opened_at > WINDOW_SECONDS:
            return errcode(45015, "response out of time limit")
        if window.quota <= 0:
            return errcode(45047, "out of response count limit")
        return None

    async def _send(self, request: web.Request) -> web.Response:
        body = call_of(request).json or {}
        open_kfid, user = body.get("open_kfid", ""), body.get("touser", "")
        if error := self._authorize(request, open_kfid):
            return error
        msgid = body.get("msgid")
        if msgid is not None:
            if not (isinstance(msgid, str) and 0 < len(msgid.encode()) <= 32
                    and all(c.isascii() and (c.isalnum() or c in "_-") for c in msgid)):
                return errcode(40097, "invalid msgid")
            if (open_kfid, msgid) in self.by_msgid:  # the same msgid again: sent once
                return web.json_response(self.by_msgid[(open_kfid, msgid)])
        if body.get("msgtype") == "text" and len(str(body.get("text", {}).get("content", "")).encode()) > 2048:
            return errcode(40097, "content too long")
        if error := self._may_send(open_kfid, user):
            return error
        self.windows[(open_kfid, user)].quota -= 1
        answer = {"errcode": 0, "errmsg": "ok", "msgid": msgid or secrets.token_hex(8)}
        self.by_msgid[(open_kfid, answer["msgid"])] = answer
        self.sent.append({"corp_id": self.owner[open_kfid], **body})
        return web.json_response(answer)

    async def _send_on_event(self, request: web.Request) -> web.Response:
        corp_id, error = self.core.authorize(request, "wecom")
        if error:
            return error
        body = call_of(request).json or {}
        found = self.welcome_codes.pop(body.get("code", ""), None)
        if (found is None or self.core.now() - found[2] > WELCOME_SECONDS
                or self.owner.get(found[0]) != corp_id):
            return errcode(40097, "invalid or used welcome code")
        msgid = body.get("msgid") or secrets.token_hex(8)
        self.sent.append({"corp_id": corp_id, "welcome": True, "touser": found[1], **body})
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    async def _state_get(self, request: web.Request) -> web.Response:
        body = call_of(request).json or {}
        if error := self._authorize(request, body.get("open_kfid", "")):
            return error
        state, servicer = self.service_states.get((body["open_kfid"], body.get("external_userid", "")), (0, ""))
        answer = {"errcode": 0, "errmsg": "ok", "service_state": state}
        if servicer:
            answer["servicer_userid"] = servicer
        return web.json_response(answer)

    async def _state_trans(self, request: web.Request) -> web.Response:
        body = call_of(request).json or {}
        if error := self._authorize(request, body.get("open_kfid", "")):
            return error
        state = int(body.get("service_state", -1))
        servicer = body.get("servicer_userid", "")
        if state not in (1, 2, 3):
            return errcode(95016, "invalid service state transition")
        if state == 3 and servicer not in self.receiving_servicers:
            return errcode(95014, "servicer is not receiving customers")
        self.service_states[(body["open_kfid"], body.get("external_userid", ""))] = (
            state, servicer if state == 3 else "")
        return errcode(0, "ok")

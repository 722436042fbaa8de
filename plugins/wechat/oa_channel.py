"""The `wechat_oa` channel: Official Account pushes in (plain/compatible/safe mode), replies out.
With several instances on one store they share one access token, kept in the store.

The bot answers inside the push's HTTP response when it can (a passive reply, within WeChat's
5 seconds); anything later goes through the customer-service API from the outbox. Whether the
48-hour window is open comes from the customer's stored messages, so it survives a restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import field_validator

from csgw.gateway.channel import (
    Channel,
    ChannelConfig,
    ChannelConfigError,
    ChannelNotReady,
    SendError,
)
from csgw.gateway.clock import now
from csgw.gateway.customer_history import latest_inbound
from csgw.gateway.messages import InboundMessage, OutboundMessage
from csgw.gateway.shared_token import shared_token
from csgw.gateway.webhook_crypto import (
    DecryptError,
    MessageCrypto,
    SignatureError,
    parse_encoding_aes_key,
    signature_matches,
)
from csgw.gateway.webhook_requests import NonceGuard, read_body, timestamp_is_fresh
from csgw.plugins.wechat.client import ApiClient
from csgw.plugins.wechat.customer_history import outside_window, window_closed
from csgw.plugins.wechat.menu_clicks import checked_menu
from csgw.plugins.wechat.oa_api import OfficialAccountApi
from csgw.plugins.wechat.token import AccessTokenCache, ApiError, oa_token_cache
from csgw.plugins.wechat.xml import (
    PushRefused,
    build_encrypted_envelope,
    build_reply,
    parse_push,
    to_inbound,
)

if TYPE_CHECKING:
    from csgw.gateway.ports import ChannelHost

# VIEW (a menu link opened) and LOCATION (reported every few seconds) are noise, not contact
ACCEPTED_EVENTS = {"subscribe", "unsubscribe", "CLICK", "SCAN"}
ACCEPTED_KINDS = {"text", "image", "voice", "video", "location", "link", "event"}


def _check_aes_key(value: str | None) -> str | None:
    if value:
        try:
            parse_encoding_aes_key(value)
        except ChannelConfigError as exc:
            raise ValueError(str(exc)) from None
    return value or None


class WechatOAConfig(ChannelConfig):
    token: str
    app_id: str
    app_secret: str
    encoding_aes_key: str | None = None
    previous_encoding_aes_key: str | None = None
    api_base: str = "https://api.weixin.qq.com"
    reply_budget: float = 4.5  # WeChat gives up at 5 s; keep room for the network
    max_clock_skew: float = 300
    api_timeout: float = 10.0
    greeting: str | None = None  # said on follow; None: the default in the account's language, "": none
    menu: dict[str, str] = {}  # custom-menu CLICK key -> entry:ID | category:NAME | handover

    _aes = field_validator("encoding_aes_key", "previous_encoding_aes_key")(_check_aes_key)
    _menu = field_validator("menu")(checked_menu)


class WechatOAChannel(Channel):
    plugin = "wechat_oa"
    Config = WechatOAConfig

    def __init__(self, config: WechatOAConfig, services: ChannelHost) -> None:
        super().__init__(config, services)
        self.config: WechatOAConfig = config
        self.crypto = (
            MessageCrypto(config.token, config.encoding_aes_key, config.app_id,
                          config.previous_encoding_aes_key)
            if config.encoding_aes_key
            else None
        )
        self.tokens: AccessTokenCache | None = None
        self.api: OfficialAccountApi | None = None
        self.nonces = NonceGuard(services.limits, f"{self.plugin}:{config.account}", config.max_clock_skew)

    async def start(self) -> None:
        if self.services.http is None:
            raise ChannelNotReady("no HTTP client yet")
        cfg = self.config
        self.tokens = oa_token_cache(self.services.http, cfg.api_base, cfg.app_id, cfg.app_secret,
                                     timeout=cfg.api_timeout,
                                     shared=shared_token(self.services, self.plugin, self.account))
        self.api = OfficialAccountApi(ApiClient(self.services.http, cfg.api_base, self.tokens,
                                                timeout=cfg.api_timeout))

    # --- inbound ---------------------------------------------------------------------------
    async def webhook(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        if not signature_matches(q.get("signature"), self.config.token, timestamp, nonce):
            self.log.warning("wechat.bad_signature", method=request.method, remote=request.remote)
            return web.Response(status=403, text="bad signature")
        if request.method == "GET":
            return web.Response(text=q.get("echostr", ""), content_type="text/plain")
        if not timestamp_is_fresh(timestamp, skew=self.config.max_clock_skew):
            self.log.warning("wechat.stale_timestamp", timestamp=timestamp)
            return web.Response(status=403, text="stale timestamp")
        started = time.monotonic()
        try:
            body = await read_body(request)
            if not await self.nonces.admits(timestamp, nonce, body):
                self.log.warning("wechat.replayed_nonce", timestamp=timestamp)
                return web.Response(status=403, text="nonce already used with another body")
            fields, key = self._read_push(request, body)
        except PushRefused as exc:
            self.log.warning("wechat.push_refused", reason=str(exc))
            return web.Response(status=exc.status, text=str(exc))
        except SignatureError as exc:
            self.log.warning("wechat.bad_msg_signature", reason=str(exc))
            return web.Response(status=403, text="bad msg_signature")
        except DecryptError as exc:
            self.log.warning("wechat.decrypt_failed", reason=str(exc))
            return web.Response(status=400, text="cannot decrypt")
        inbound = to_inbound(fields, channel=self.plugin, account=self.account)
        if not self._wanted(inbound):
            self.log.info("wechat.push_ignored", kind=inbound.kind, wechat_event=inbound.payload.get("event"))
            return web.Response(text="success")
        if inbound.payload.get("event") == "subscribe":
            inbound = await self._with_profile(inbound)
        inbound = self._with_menu_action(inbound)
        remaining = max(0.1, self.config.reply_budget - (time.monotonic() - started))
        accepted = await self.services.accept(inbound, wait_reply=remaining)
        texts = [r.text for r in accepted.inline_replies if r.text]
        if not texts:
            return web.Response(text="success")
        # a passive reply carries one message: several bot lines go out as one
        reply = build_reply(to_user=inbound.user_id, from_user=str(fields.get("ToUserName", "")),
                            create_time=int(time.time()), text="\n\n".join(texts))
        if key is not None and self.crypto is not None:
            reply = self._encrypt_reply(reply, key)
        return web.Response(text=reply, content_type="application/xml")

    def _read_push(self, request: web.Request, body: bytes) -> tuple[dict[str, Any], bytes | None]:
        fields = parse_push(body)
        if request.query.get("encrypt_type", "raw") != "aes":
            if self.crypto is not None:
                # safe mode: only pushes whose body is signed (msg_signature) and encrypted
                raise PushRefused("plaintext push refused: this account is in safe mode", status=403)
            return fields, None
        if self.crypto is None:
            raise PushRefused("safe-mode push but no encoding_aes_key is configured")
        encrypted = fields.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise PushRefused("safe-mode push without Encrypt")
        q = request.query
        decrypted = self.crypto.verify_and_decrypt(
            q.get("msg_signature"), q.get("timestamp", ""), q.get("nonce", ""), encrypted
        )
        return parse_push(decrypted.text.encode()), decrypted.key

    def _encrypt_reply(self, reply: str, key: bytes) -> str:
        assert self.crypto is not None
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        encrypted = self.crypto.encrypt(reply, key=key)
        return build_encrypted_envelope(encrypted=encrypted, signature=self.crypto.sign(timestamp, nonce, encrypted),
                                        timestamp=timestamp, nonce=nonce)

    @staticmethod
    def _wanted(inbound: InboundMessage) -> bool:
        if inbound.kind not in ACCEPTED_KINDS or not inbound.user_id:
            return False
        return inbound.kind != "event" or inbound.payload.get("event") in ACCEPTED_EVENTS

    def _with_menu_action(self, inbound: InboundMessage) -> InboundMessage:
        if inbound.payload.get("event") != "CLICK":
            return inbound
        key = str(inbound.payload.get("EventKey", ""))
        action = self.config.menu.get(key)
        if action is None:  # a button the config does not know: recorded, not answered
            self.log.info("wechat.menu_key_unmapped", menu_key=key)
            return inbound
        return dataclasses.replace(inbound, payload={**inbound.payload, "menu_action": action})

    async def _with_profile(self, inbound: InboundMessage) -> InboundMessage:
        if self.api is None:
            return inbound
        try:
            info = await asyncio.wait_for(self.api.user_info(inbound.user_id), timeout=1.0)
        except (ApiError, TimeoutError) as exc:
            self.log.info("wechat.profile_unavailable", error=str(exc))
            return inbound
        profile = {k: info[k] for k in ("nickname", "headimgurl", "language", "unionid") if info.get(k)}
        return dataclasses.replace(inbound, profile={**inbound.profile, **profile})

    # --- outbound --------------------------------------------------------------------------
    async def send(self, message: OutboundMessage) -> None:
        if self.api is None:
            raise SendError("channel not started", retryable=True, code="not_started")
        try:
            if outside_window(await latest_inbound(self.plugin, self.account, message.user_id), now()):
                raise window_closed()  # do not spend an API call (and quota) to hear 45015
            await self._deliver(message)
        except SendError as exc:
            self.log.warning("wechat.send_failed", code=exc.code, error=str(exc),
                             retryable=exc.retryable, message_id=message.message_id)
            raise

    async def _deliver(self, message: OutboundMessage) -> None:
        assert self.api is not None
        payload = message.payload
        if isinstance(payload.get("image"), dict):
            image = payload["image"]
            media_id = image.get("media_id") or await self.api.upload_media(
                "image", image.get("filename", "image.jpg"), image["data"],
                image.get("content_type", "image/jpeg"))
            await self.api.send_image(message.user_id, media_id)
        elif isinstance(payload.get("link"), dict):
            link = payload["link"]
            await self.api.send_news(message.user_id, title=link.get("title", message.text),
                                     url=link["url"], description=link.get("description", ""),
                                     picurl=link.get("picurl", ""))
            return
        if message.text:
            await self.api.send_text(message.user_id, message.text)

    async def typing(self, user_id: str, on: bool) -> None:
        """Show the customer that an agent is writing (lasts 15 s on the platform, and needs
        the customer to have written within 30 s: otherwise errcode 45080)."""
        if self.api is not None:
            await self.api.typing(user_id, on)

    def health_detail(self) -> dict[str, Any]:
        return {"safe_mode": self.crypto is not None, **self.stats.as_dict()}

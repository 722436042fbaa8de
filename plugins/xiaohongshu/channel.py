"""The `xiaohongshu` channel: encrypted JSON pushes in (private messages, orders), signed API sends out,
and an optional pull since a stored cursor that fills the gaps lost pushes leave."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import Field, field_validator

from csgw.gateway.channel import (
    Channel,
    ChannelConfig,
    ChannelConfigError,
    ChannelNotReady,
    SendError,
)
from csgw.gateway.messages import InboundMessage, OutboundMessage
from csgw.gateway.shared_token import shared_token
from csgw.gateway.webhook_crypto import (
    DecryptError,
    MessageCrypto,
    SignatureError,
    parse_encoding_aes_key,
    signature_matches,
)
from csgw.gateway.webhook_requests import PushRefused, read_body, timestamp_is_fresh
from csgw.plugins.xiaohongshu.adapter import PLUGIN, XiaohongshuAdapter
from csgw.plugins.xiaohongshu.api import XiaohongshuApi
from csgw.plugins.xiaohongshu.pull import MessagePuller
from csgw.plugins.xiaohongshu.reply_window import check_reply_window
from csgw.plugins.xiaohongshu.throttle import Throttle

if TYPE_CHECKING:
    from csgw.gateway.ports import ChannelHost


class XiaohongshuConfig(ChannelConfig):
    token: str
    encoding_aes_key: str
    app_key: str
    app_secret: str
    receiver_id: str | None = None  # the id at the end of decrypted pushes; default: app_key
    api_base: str = "https://ark.xiaohongshu.com"
    max_clock_skew: float = 300
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    api_timeout: float = 10.0
    send_per_second: float = Field(5.0, gt=0)
    reply_window_hours: float = Field(48.0, ge=0)  # 0: no window known, let the platform decide
    token_refresh_margin_seconds: float = Field(300.0, ge=0)  # renew the access token this early
    pull_interval_seconds: float | None = Field(None, gt=0)  # None: no pull fallback
    pull_limit: int = Field(100, ge=1)
    adapter: XiaohongshuAdapter = Field(default_factory=XiaohongshuAdapter)

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes_key_parses(cls, value: str) -> str:
        try:
            parse_encoding_aes_key(value)
        except ChannelConfigError as exc:
            raise ValueError(str(exc)) from None
        return value


class XiaohongshuChannel(Channel):
    plugin = PLUGIN
    Config = XiaohongshuConfig
    config: XiaohongshuConfig

    def __init__(self, config: XiaohongshuConfig, services: ChannelHost) -> None:
        super().__init__(config, services)
        self.adapter = config.adapter
        self.crypto = MessageCrypto(config.token, config.encoding_aes_key, config.receiver_id or config.app_key)
        self.throttle = Throttle(config.send_per_second, limits=services.limits,
                                 key=f"send:{self.plugin}:{config.account}")
        self.api: XiaohongshuApi | None = None
        self.puller: MessagePuller | None = None

    async def start(self) -> None:
        if self.services.http is None:
            raise ChannelNotReady("no HTTP client yet")
        cfg = self.config
        self.api = XiaohongshuApi(self.services.http, api_base=cfg.api_base, app_key=cfg.app_key,
                                  app_secret=cfg.app_secret, adapter=self.adapter, throttle=self.throttle,
                                  timeout=cfg.api_timeout, token_refresh_margin=cfg.token_refresh_margin_seconds,
                                  shared_token=shared_token(self.services, self.plugin, self.account))
        if cfg.pull_interval_seconds is not None:
            self.puller = MessagePuller(self.api, self._accept_message, cursors=self.services.cursors,
                                        channel=self.plugin, account=self.account,
                                        interval=cfg.pull_interval_seconds, limit=cfg.pull_limit,
                                        stats=self.stats, log=self.log, leadership=self.services.leadership)
            await self.puller.start()

    async def stop(self) -> None:
        if self.puller is not None:
            await self.puller.stop()

    # --- inbound ---------------------------------------------------------------------------
    async def webhook(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET":
            return self._verify_url(request)
        if request.method != "POST":
            return web.Response(status=405, text="GET or POST")
        try:
            push = await self._read_push(request)
        except PushRefused as exc:
            self.log.warning("xiaohongshu.push_refused", reason=str(exc), status=exc.status)
            return web.Response(status=exc.status, text=str(exc))
        except SignatureError:
            self.log.warning("xiaohongshu.bad_msg_signature", remote=request.remote)
            return web.Response(status=403, text="bad signature")
        except DecryptError as exc:
            self.log.warning("xiaohongshu.decrypt_failed", reason=str(exc))
            return web.Response(status=400, text="cannot decrypt")
        if self.adapter.is_order_push(push):
            await self._attach_order(push)
        else:
            await self._accept_message(push)
        return web.Response(text=self.adapter.ack_body)

    def _verify_url(self, request: web.Request) -> web.Response:
        a, q = self.adapter, request.query
        if not signature_matches(q.get(a.verify_signature_param), self.config.token,
                                 q.get(a.timestamp_param, ""), q.get(a.nonce_param, "")):
            self.log.warning("xiaohongshu.bad_signature", method="GET", remote=request.remote)
            return web.Response(status=403, text="bad signature")
        return web.Response(text=q.get(a.echostr_param, ""), content_type="text/plain")

    async def _read_push(self, request: web.Request) -> dict[str, Any]:
        """The decrypted push, once its size, JSON, freshness and signature were checked."""
        body = _json_object(await read_body(request, self.config.max_body_bytes), "body")
        a = self.adapter

        def envelope(name: str) -> str:
            value = request.query.get(name) or body.get(name)
            return value if isinstance(value, str) else ""

        timestamp = envelope(a.timestamp_param)
        if not timestamp_is_fresh(timestamp, skew=self.config.max_clock_skew):
            raise PushRefused("timestamp missing or outside the replay window", status=403)
        encrypted = body.get(a.encrypt_field)
        if not isinstance(encrypted, str) or not encrypted:
            raise PushRefused(f"body has no {a.encrypt_field}")
        decrypted = self.crypto.verify_and_decrypt(envelope(a.signature_param), timestamp,
                                                   envelope(a.nonce_param), encrypted)
        return _json_object(decrypted.text.encode(), "decrypted push")

    async def _accept_message(self, push: dict[str, Any]) -> InboundMessage | None:
        """Store a pushed or pulled private message (once, by its id); None when it is none."""
        inbound = self.adapter.to_inbound(push, account=self.account)
        if inbound is None:
            self.log.info("xiaohongshu.push_ignored", keys=sorted(push)[:20])
            return None
        accepted = await self.services.accept(inbound)
        order_id = inbound.payload.get("order", {}).get("order_id")
        if order_id and not accepted.duplicate:
            await self._attach(inbound.user_id, {"order_id": order_id, "event": "order_shared"})
        self.log.info("xiaohongshu.message_accepted", kind=inbound.kind, message_id=accepted.message_id,
                      duplicate=accepted.duplicate)
        return inbound

    async def _attach_order(self, push: dict[str, Any]) -> None:
        update = self.adapter.order_update(push)
        if update is None:
            self.log.warning("xiaohongshu.order_push_unusable", reason="no user or order id",
                             order_event=push.get(self.adapter.push_type_field))
            return
        await self._attach(update.pop("user_id"), update)

    async def _attach(self, user_id: str, update: dict[str, str]) -> None:
        customer_id = await self.services.attach_order(self.plugin, self.account, user_id, update)
        self.log.info("xiaohongshu.order_attached", customer_id=customer_id, order_id=update["order_id"],
                      order_event=update.get("event"))

    # --- outbound --------------------------------------------------------------------------
    async def send(self, message: OutboundMessage) -> None:
        if self.api is None:
            raise SendError("channel not started", retryable=True, code="not_started")
        try:
            await check_reply_window(self.account, message.user_id, self.config.reply_window_hours)
        except SendError as exc:
            self.log.info("xiaohongshu.outside_reply_window", message_id=message.message_id, error=str(exc))
            raise
        image = message.payload.get("image")
        image_url = image.get("url", "") if isinstance(image, dict) else ""
        try:
            if image_url:
                await self.api.send(message.user_id, f"{message.message_id}-image", image_url=image_url)
            if message.text:
                await self.api.send(message.user_id, str(message.message_id), text=message.text)
        except SendError as exc:
            self.log.warning("xiaohongshu.send_failed", code=exc.code, error=str(exc),
                             retryable=exc.retryable, message_id=message.message_id)
            raise

    def health_detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"rate_limited_for": round(self.throttle.held_for(), 1), **self.stats.as_dict()}
        if self.api is not None and self.api.tokens is not None:
            detail["token_fetches"] = self.api.tokens.fetches
        if self.puller is not None:
            detail["sync_lag_seconds"] = self.puller.lag_seconds()
            detail["pull_runs"] = self.puller.runs
            detail["polling"] = self.puller.leading
        return detail


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise PushRefused(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise PushRefused(f"{what} is not a JSON object")
    return value

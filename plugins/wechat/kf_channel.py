"""The `wecom_kf` channel: encrypted event pushes trigger `sync_msg` pulls; replies via `send_msg`.

Durable state lives in the database, not in this object: the sync cursor (`services.cursors`,
committed only after its batch is stored), and, derived from the customer's stored messages,
the kf account they wrote to and whether the 48-hour window is open. A restart loses nothing.

Service state is deliberately not mirrored. csgw is the desk: its agents answer through
`send_msg`, and WeCom refuses `send_msg` (95018) once a session is in the queue (2) or with a
WeCom servicer (3). Mirroring csgw's queue/assignment onto `service_state/trans` would therefore
stop csgw's own agents from replying; the session stays in the state the API serves (0/1).

With several instances on one store, one pulls: the one leading `poll:wecom_kf:<account>`. A push
may reach any instance; it is passed on over the bus, and the leader pulls. A follower takes
over when the leader is gone, and catches up from the stored cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from csgw.gateway.leadership import poll_role, while_leading
from csgw.gateway.messages import OutboundMessage
from csgw.gateway.models import Message
from csgw.gateway.shared_token import shared_token
from csgw.gateway.webhook_crypto import (
    DecryptError,
    MessageCrypto,
    SignatureError,
    parse_encoding_aes_key,
)
from csgw.gateway.webhook_requests import PushRefused, read_body, timestamp_is_fresh
from csgw.plugins.wechat import kf_messages
from csgw.plugins.wechat.client import ApiClient
from csgw.plugins.wechat.customer_history import outside_window, window_closed
from csgw.plugins.wechat.kf_api import KfApi
from csgw.plugins.wechat.token import ApiError, wecom_token_cache
from csgw.plugins.wechat.xml import parse_push

if TYPE_CHECKING:
    from csgw.gateway.ports import ChannelHost

MSGID_PREFIX = "csgw-"
SYNC_TOPIC = "wecom_kf.sync"  # a push's request to pull, for the instance that pulls


class WecomKfConfig(ChannelConfig):
    corp_id: str
    secret: str
    token: str
    encoding_aes_key: str
    previous_encoding_aes_key: str | None = None
    open_kfid: str | list[str]
    api_base: str = "https://qyapi.weixin.qq.com"
    poll_interval: float = 60.0  # safety net when a push is lost
    sync_limit: int = 1000
    max_clock_skew: float = 300
    api_timeout: float = 10.0
    greeting: str | None = None  # welcome on entering a session; None: the account's language's default, "": none

    @field_validator("encoding_aes_key", "previous_encoding_aes_key")
    @classmethod
    def _aes(cls, value: str | None) -> str | None:
        if value:
            try:
                parse_encoding_aes_key(value)
            except ChannelConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    @property
    def open_kfids(self) -> list[str]:
        return [self.open_kfid] if isinstance(self.open_kfid, str) else list(self.open_kfid)


class WecomKfChannel(Channel):
    plugin = "wecom_kf"
    Config = WecomKfConfig

    def __init__(self, config: WecomKfConfig, services: ChannelHost) -> None:
        super().__init__(config, services)
        self.config: WecomKfConfig = config
        self.crypto = MessageCrypto(config.token, config.encoding_aes_key, config.corp_id,
                                    config.previous_encoding_aes_key)
        self.api: KfApi | None = None
        self._wake = asyncio.Event()
        self._sync_tokens: dict[str, str | None] = {}  # open_kfid -> push token, pending pulls
        self._pull_lock = asyncio.Lock()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._subscribed = False
        self.role = poll_role(self.plugin, config.account)
        self.polling = False  # this instance pulls for the account (it leads the role)
        self.last_pull_at: float | None = None
        self.sync_lag: float | None = None  # at the last pull: now minus the newest send_time (0: nothing new)

    async def start(self) -> None:
        if self.services.http is None:
            raise ChannelNotReady("no HTTP client yet")
        cfg = self.config
        tokens = wecom_token_cache(self.services.http, cfg.api_base, cfg.corp_id, cfg.secret,
                                   timeout=cfg.api_timeout,
                                   shared=shared_token(self.services, self.plugin, self.account))
        self.api = KfApi(ApiClient(self.services.http, cfg.api_base, tokens, timeout=cfg.api_timeout))
        if not self._subscribed:
            self.services.bus.subscribe(SYNC_TOPIC, self._sync_requested)
            self._subscribed = True
        self._loop_task = asyncio.create_task(
            while_leading(self.services.leadership, self.role, self._lead, on_change=self._polling),
            name=f"wecom_kf:{self.account}")

    async def stop(self) -> None:
        # The flag as well as the cancel: asyncio.wait_for (3.11) swallows a cancellation that
        # lands as the wake event fires, and the loop would then sleep for poll_interval.
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None

    # --- inbound ---------------------------------------------------------------------------
    async def webhook(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        timestamp, nonce, signature = q.get("timestamp", ""), q.get("nonce", ""), q.get("msg_signature")
        try:
            if request.method == "GET":
                plain = self.crypto.verify_and_decrypt(signature, timestamp, nonce, q.get("echostr", ""))
                return web.Response(text=plain.text, content_type="text/plain")
            if not timestamp_is_fresh(timestamp, skew=self.config.max_clock_skew):
                self.log.warning("wecom.stale_timestamp", timestamp=timestamp)
                return web.Response(status=403, text="stale timestamp")
            envelope = parse_push(await read_body(request))
            encrypted = envelope.get("Encrypt")
            if not isinstance(encrypted, str) or not encrypted:
                raise PushRefused("push without Encrypt")
            fields = parse_push(self.crypto.verify_and_decrypt(signature, timestamp, nonce, encrypted).text.encode())
        except SignatureError:
            self.log.warning("wecom.bad_signature", method=request.method, remote=request.remote)
            return web.Response(status=403, text="bad msg_signature")
        except DecryptError as exc:
            self.log.warning("wecom.decrypt_failed", reason=str(exc))
            return web.Response(status=400, text="cannot decrypt")
        except PushRefused as exc:
            self.log.warning("wecom.push_refused", reason=str(exc))
            return web.Response(status=exc.status, text=str(exc))
        if fields.get("Event") == "kf_msg_or_event":
            kfid = str(fields.get("OpenKfId", ""))
            if kfid in self.config.open_kfids:
                await self.services.bus.publish(SYNC_TOPIC, {"account": self.account, "open_kfid": kfid,
                                                             "token": str(fields.get("Token", "")) or None})
            else:
                self.log.warning("wecom.unknown_open_kfid", open_kfid=kfid)
        return web.Response(text="success")

    async def _sync_requested(self, data: dict[str, Any]) -> None:
        """A push reached some instance: the one that pulls for the account pulls."""
        if data.get("account") == self.account and self.services.leadership.leads(self.role):
            self.trigger(str(data.get("open_kfid", "")), data.get("token") or None)

    def _polling(self, leading: bool) -> None:
        self.polling = leading

    async def _lead(self) -> None:
        """Pull for the account while this instance leads it: catch up on what arrived while no
        instance of ours pulled (down, or another instance led), then on pushes and the timer."""
        for kfid in self.config.open_kfids:
            self._sync_tokens.setdefault(kfid, None)
        self._wake.set()
        await self._pull_loop()

    def trigger(self, open_kfid: str, token: str | None = None) -> None:
        """Ask the pull loop to sync `open_kfid` (the push's token lifts the rate limit)."""
        if token or open_kfid not in self._sync_tokens:
            self._sync_tokens[open_kfid] = token
        self._wake.set()

    async def _pull_loop(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)
            self._wake.clear()
            if self._stopping:
                return
            pending, self._sync_tokens = self._sync_tokens, {}
            if not pending:  # timer: the safety net pulls every account
                pending = dict.fromkeys(self.config.open_kfids)
            for kfid, token in pending.items():
                try:
                    await self.pull(kfid, token)
                except ApiError as exc:
                    self.stats.failure(str(exc), str(exc.code) if exc.code is not None else "network")
                    self.log.warning("wecom.pull_failed", open_kfid=kfid, code=exc.code, error=str(exc))
                except Exception as exc:  # noqa: BLE001 - recorded and logged; the next pull retries
                    self.stats.failure(f"pull crashed: {exc!r}", "crash")
                    self.log.exception("wecom.pull_crashed", open_kfid=kfid)

    async def pull(self, open_kfid: str, token: str | None = None) -> int:
        """Sync one kf account from its stored cursor until has_more is false; returns items seen.

        Each batch is accepted (stored) before its next_cursor is persisted, so a crash in
        between re-pulls the batch and dedupe by msgid drops the repeats."""
        assert self.api is not None, "channel not started"
        key = f"cursor:{open_kfid}"
        async with self._pull_lock:
            cursor = await self.services.cursors.get(self.plugin, self.account, key)
            seen, newest = 0, None
            try:
                batches = self.api.iter_sync(open_kfid, cursor=cursor, token=token,
                                             limit=self.config.sync_limit)
                async for batch in batches:
                    for item in batch.msg_list:
                        await self._handle_item(item)
                        if isinstance(item.get("send_time"), int | float):
                            newest = max(newest or 0.0, float(item["send_time"]))
                    seen += len(batch.msg_list)
                    if batch.next_cursor and batch.next_cursor != cursor:
                        await self.services.cursors.set(self.plugin, self.account, key, batch.next_cursor)
                        cursor = batch.next_cursor
            except ApiError as exc:
                if exc.code == 95007 and token:  # the push's token expired: pull without it
                    self.log.info("wecom.sync_token_expired", open_kfid=open_kfid)
                    self.trigger(open_kfid)
                    return seen
                raise
            self.last_pull_at = time.time()
            # caught up: the lag is how old the newest message was when it reached us
            self.sync_lag = max(0.0, self.last_pull_at - newest) if newest else 0.0
            self.stats.success()
            return seen

    async def _handle_item(self, item: dict[str, Any]) -> None:
        event = kf_messages.kf_event(item)
        if event is not None:
            await self._observe_event(event)
        inbound = kf_messages.to_inbound(item, channel=self.plugin, account=self.account)
        if inbound is not None:
            await self.services.accept(inbound)

    async def _observe_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event_type")
        if kind == "msg_send_fail":
            await self._send_failed(event)
        elif kind == "servicer_status_change":
            self.log.info("wecom.servicer_status", servicer=event.get("servicer_userid"),
                          status=event.get("status"))

    async def _send_failed(self, event: dict[str, Any]) -> None:
        """The platform took a message and later could not deliver it: say so on the message."""
        fail_type = int(event.get("fail_type", 0) or 0)
        reason = kf_messages.FAIL_TYPES.get(fail_type, f"fail_type {fail_type}")
        code = f"msg_send_fail:{fail_type}"
        msgid = str(event.get("fail_msgid", ""))
        self.stats.failure(f"message {msgid} not delivered: {reason}", code)
        self.log.warning("wecom.msg_send_fail", fail_msgid=msgid, fail_type=fail_type, reason=reason,
                         external_userid=event.get("external_userid"))
        number = msgid.removeprefix(MSGID_PREFIX)
        if msgid == number or not number.isdigit():
            return  # not sent by csgw (a servicer in the WeCom client)
        if await Message.exists(id=int(number), channel=self.plugin, account=self.account, direction="out"):
            await self.services.mark_undelivered(int(number), f"not delivered: {reason}", code)

    # --- outbound --------------------------------------------------------------------------
    @staticmethod
    def msgid_for(message: OutboundMessage) -> str:
        """Stable per stored message, so an outbox retry cannot send twice."""
        return f"{MSGID_PREFIX}{message.message_id}"

    async def send(self, message: OutboundMessage) -> None:
        if self.api is None:
            raise SendError("channel not started", retryable=True, code="not_started")
        msgid = self.msgid_for(message)
        try:
            welcome_code = message.payload.get("welcome_code")
            if welcome_code:  # the greeting for enter_session: once, within 20 s, by its code
                await self.api.send_msg_on_event(str(welcome_code), message.text, msgid=msgid)
                return
            last = await latest_inbound(self.plugin, self.account, message.user_id)
            if outside_window(last, now()):
                raise window_closed()
            written_to = (last.payload or {}).get("open_kfid") if last is not None else None
            kfid = str(message.payload.get("open_kfid") or written_to or self.config.open_kfids[0])
            await self.api.send_text(message.user_id, kfid, message.text, msgid=msgid)
        except SendError as exc:
            self.log.warning("wecom.send_failed", code=exc.code, error=str(exc),
                             retryable=exc.retryable, message_id=message.message_id)
            raise

    def health_detail(self) -> dict[str, Any]:
        return {"last_pull_at": self.last_pull_at, "sync_lag_seconds": self.sync_lag, "polling": self.polling,
                **self.stats.as_dict()}

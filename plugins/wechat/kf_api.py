"""WeCom customer-service (微信客服) API: sync_msg pulling, send_msg, welcome, service state."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from csgw.gateway.channel import SendError
from csgw.plugins.wechat.client import ApiClient, to_send_error
from csgw.plugins.wechat.token import ApiError

MSGID_RE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
MAX_TEXT_BYTES = 2048

KF_SEND_ERRORS: dict[int, tuple[bool, str]] = {
    95018: (False, "the session's state does not allow this send (a person is serving, or it ended)"),
    95000: (False, "open_kfid is invalid: check the channel configuration"),
    95004: (False, "open_kfid does not exist: check the channel configuration"),
    95017: (False, "the kf API is not enabled for this corp"),
    95014: (False, "the agent is not receiving customers"),
    45015: (False, "outside the 48-hour window: the customer has to write first"),
    45047: (False, "message limit reached: the customer has to write again"),
    45009: (True, "API frequency limit reached"),
    -1: (True, "WeCom is busy"),
}

# service_state values
STATE_NEW, STATE_BOT, STATE_QUEUE, STATE_HUMAN, STATE_ENDED = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class SyncBatch:
    """One sync_msg page; store `msg_list`, then persist `next_cursor`."""

    msg_list: list[dict[str, Any]]
    next_cursor: str
    has_more: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def check_msgid(msgid: str) -> str:
    if not MSGID_RE.fullmatch(msgid):
        raise ValueError(f"msgid must be 1-32 characters of [0-9a-zA-Z_-], got {msgid!r}")
    return msgid


class KfApi:
    def __init__(self, client: ApiClient) -> None:
        self.client = client

    async def sync_msg(
        self,
        open_kfid: str,
        *,
        cursor: str | None = None,
        token: str | None = None,
        limit: int = 1000,
    ) -> SyncBatch:
        body: dict[str, Any] = {"open_kfid": open_kfid, "limit": min(max(limit, 1), 1000)}
        if cursor:
            body["cursor"] = cursor
        if token:
            body["token"] = token
        answer = await self.client.call("/cgi-bin/kf/sync_msg", json=body)
        return SyncBatch(
            msg_list=list(answer.get("msg_list") or []),
            next_cursor=str(answer.get("next_cursor") or cursor or ""),
            has_more=bool(int(answer.get("has_more", 0) or 0)),
            raw=answer,
        )

    async def iter_sync(
        self,
        open_kfid: str,
        *,
        cursor: str | None = None,
        token: str | None = None,
        limit: int = 1000,
    ) -> AsyncIterator[SyncBatch]:
        """Batches until has_more is false, even across empty pages; the caller stores each batch
        before it persists the batch's `next_cursor`, so a crash re-pulls instead of losing."""
        while True:
            batch = await self.sync_msg(open_kfid, cursor=cursor, token=token, limit=limit)
            yield batch
            if not batch.has_more:
                return
            cursor = batch.next_cursor

    async def send_msg(
        self, touser: str, open_kfid: str, msgtype: str, body: dict[str, Any], *, msgid: str | None
    ) -> str:
        """Returns the platform's msgid; sending the same `msgid` twice sends once."""
        payload: dict[str, Any] = {"touser": touser, "open_kfid": open_kfid, "msgtype": msgtype}
        payload[msgtype] = body
        if msgid is not None:
            payload["msgid"] = check_msgid(msgid)
        try:
            answer = await self.client.call("/cgi-bin/kf/send_msg", json=payload)
        except ApiError as exc:
            raise to_send_error(exc, KF_SEND_ERRORS) from exc
        return str(answer.get("msgid", msgid or ""))

    async def send_text(self, touser: str, open_kfid: str, text: str, *, msgid: str | None) -> str:
        if len(text.encode()) > MAX_TEXT_BYTES:
            raise SendError(f"text longer than {MAX_TEXT_BYTES} bytes", retryable=False, code="too_long")
        return await self.send_msg(touser, open_kfid, "text", {"content": text}, msgid=msgid)

    async def send_msg_on_event(self, code: str, text: str, *, msgid: str | None) -> str:
        """The welcome message for an enter_session event (once, within 20 s of it)."""
        payload: dict[str, Any] = {"code": code, "msgtype": "text", "text": {"content": text}}
        if msgid is not None:
            payload["msgid"] = check_msgid(msgid)
        try:
            answer = await self.client.call("/cgi-bin/kf/send_msg_on_event", json=payload)
        except ApiError as exc:
            raise to_send_error(exc, KF_SEND_ERRORS) from exc
        return str(answer.get("msgid", msgid or ""))

    async def get_service_state(self, open_kfid: str, external_userid: str) -> tuple[int, str]:
        """(service_state, servicer_userid)."""
        answer = await self.client.call(
            "/cgi-bin/kf/service_state/get",
            json={"open_kfid": open_kfid, "external_userid": external_userid},
        )
        return int(answer.get("service_state", 0)), str(answer.get("servicer_userid", ""))

    async def trans_service_state(
        self, open_kfid: str, external_userid: str, state: int, servicer_userid: str | None = None
    ) -> None:
        if state == STATE_HUMAN and not servicer_userid:
            raise ValueError("state 3 (human) needs servicer_userid")
        body: dict[str, Any] = {
            "open_kfid": open_kfid,
            "external_userid": external_userid,
            "service_state": state,
        }
        if servicer_userid:
            body["servicer_userid"] = servicer_userid
        await self.client.call("/cgi-bin/kf/service_state/trans", json=body)

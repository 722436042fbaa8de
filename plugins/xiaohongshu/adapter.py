"""Every Xiaohongshu path and field name csgw assumes, in one adapter a shop can correct in config.

The private-message interface is only available through partner access, so these defaults follow
the documented shapes (encrypted JSON push, signed open-platform API) and must be checked against
the partner documentation; `docs/channels/xiaohongshu.md` lists each one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from csgw.gateway.messages import InboundMessage

PLUGIN = "xiaohongshu"


def pick(data: Any, path: str) -> Any:
    """The value at a dotted `path`; objects the platform nests as JSON strings are opened on the way."""
    value = data
    for part in path.split(".") if path else ():
        if isinstance(value, str) and value[:1] in "{[":
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                return None
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isascii() and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _platform_time(value: Any) -> datetime | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number > 1e11:  # milliseconds
        number /= 1000
    try:
        return datetime.fromtimestamp(number, UTC)
    except (OverflowError, OSError, ValueError):  # nan, or beyond what a datetime holds
        return None


class XiaohongshuAdapter(BaseModel):
    """Paths and field names (dotted paths into JSON) for pushes in and API calls out."""

    model_config = ConfigDict(extra="forbid")

    # --- the push envelope (query parameters, or body fields of the same name) ---
    signature_param: str = "msg_signature"
    timestamp_param: str = "timestamp"
    nonce_param: str = "nonce"
    verify_signature_param: str = "signature"
    echostr_param: str = "echostr"
    encrypt_field: str = "Encrypt"
    ack_body: str = "success"

    # --- a decrypted push: what kind of push it is ---
    push_type_field: str = "msg_tag"
    order_push_types: list[str] = [
        "msg_after_sale_create", "msg_after_sale_status_change", "msg_fulfillment_status_change",
        "msg_order_create",
    ]

    # --- a private message ---
    message_id_field: str = "message_id"
    user_id_field: str = "from_user_id"
    nickname_field: str = "from_user_nickname"
    message_type_field: str = "message_type"
    time_field: str = "timestamp"
    text_field: str = "content"
    image_url_field: str = "content.url"
    note_id_field: str = "content.note_id"
    note_title_field: str = "content.title"
    note_link_field: str = "content.link"
    order_id_in_message_field: str = "content.order_id"
    event_field: str = "event"
    text_types: list[str] = ["TEXT", "text"]
    image_types: list[str] = ["IMAGE", "image"]
    note_types: list[str] = ["NOTE", "CARD", "note", "card"]
    order_types: list[str] = ["ORDER", "order"]
    event_types: list[str] = ["EVENT", "event"]

    # --- an order or after-sale push ---
    # `data` may arrive as a JSON string; `pick` opens it
    order_user_id_field: str = "data.user_id"
    order_id_field: str = "data.order_id"
    after_sale_id_field: str = "data.returns_id"
    order_status_field: str = "data.status"

    # --- the open-platform API ---
    app_key_param: str = "app-key"
    api_timestamp_param: str = "timestamp"
    sign_param: str = "sign"
    send_path: str = "/api/im/message/send"
    send_user_field: str = "to_user_id"
    send_type_field: str = "message_type"
    send_content_field: str = "content"
    send_request_id_field: str = "request_id"
    send_text_type: str = "TEXT"
    send_image_type: str = "IMAGE"
    answer_success_field: str = "success"
    answer_code_field: str = "code"
    answer_message_field: str = "msg"
    rate_limit_codes: list[str] = ["429", "-429"]
    sign_error_codes: list[str] = ["-1002"]

    # --- the access token (off while token_path is empty: calls are then signed only) ---
    token_path: str = ""
    token_body: dict[str, str] = {"grant_type": "client_credentials"}
    token_field: str = "data.access_token"
    token_expires_in_field: str = "data.expires_in"  # seconds
    token_default_expires_in: float = 7200
    token_param: str = "access-token"  # a query parameter of every call, signed with the others
    token_error_codes: list[str] = ["-1004", "-1005"]  # invalid, expired: fetch anew once, retry once

    # --- the pull fallback: messages since a cursor (used when pull_interval_seconds is set) ---
    pull_path: str = "/api/im/message/list"
    pull_cursor_field: str = "cursor"
    pull_limit_field: str = "limit"
    pull_messages_field: str = "data.messages"  # each item shaped like a decrypted push
    pull_next_cursor_field: str = "data.next_cursor"
    pull_has_more_field: str = "data.has_more"

    # --- reading pushes ----------------------------------------------------------------------
    def is_order_push(self, push: dict[str, Any]) -> bool:
        return _text(pick(push, self.push_type_field)) in self.order_push_types

    def to_inbound(self, push: dict[str, Any], *, account: str) -> InboundMessage | None:
        """A private message (or follow event) as an InboundMessage; None if it is neither."""
        user_id = _text(pick(push, self.user_id_field))
        message_type = _text(pick(push, self.message_type_field))
        if not user_id:
            return None
        kind, text, payload = self._content(push, message_type)
        if kind is None:
            return None
        nickname = pick(push, self.nickname_field)
        return InboundMessage(
            channel=PLUGIN, account=account, user_id=user_id, text=text,
            external_id=_text(pick(push, self.message_id_field)) or None, kind=kind,
            payload={"message_type": message_type, **payload},
            platform_ts=_platform_time(pick(push, self.time_field)),
            profile={"nickname": str(nickname)} if nickname else {},
        )

    def _content(self, push: dict[str, Any], message_type: str) -> tuple[str | None, str, dict[str, Any]]:
        if message_type in self.text_types:
            return "text", _text(pick(push, self.text_field)), {}
        if message_type in self.image_types:
            return "image", "[图片]", {"image_url": _text(pick(push, self.image_url_field))}
        if message_type in self.note_types:
            note = {"id": _text(pick(push, self.note_id_field)),
                    "title": _text(pick(push, self.note_title_field)),
                    "url": _text(pick(push, self.note_link_field))}
            return "link", note["title"] or "[笔记分享]", {"note": note}
        if message_type in self.order_types:
            order_id = _text(pick(push, self.order_id_in_message_field))
            return "order", f"[订单] {order_id}".strip(), {"order": {"order_id": order_id}}
        if message_type in self.event_types:
            event = _text(pick(push, self.event_field))
            return ("event", "", {"event": event}) if event else (None, "", {})
        return None, "", {}

    def order_update(self, push: dict[str, Any]) -> dict[str, str] | None:
        """The order facts an order/after-sale push carries; None without a customer or order id."""
        update = {
            "event": _text(pick(push, self.push_type_field)),
            "user_id": _text(pick(push, self.order_user_id_field)),
            "order_id": _text(pick(push, self.order_id_field)),
            "after_sale_id": _text(pick(push, self.after_sale_id_field)),
            "status": _text(pick(push, self.order_status_field)),
        }
        if not update["user_id"] or not update["order_id"]:
            return None
        return update

    # --- writing API calls -------------------------------------------------------------------
    def send_body(self, user_id: str, request_id: str, *, text: str = "", image_url: str = "") -> dict[str, Any]:
        kind, content = (self.send_image_type, image_url) if image_url else (self.send_text_type, text)
        return {self.send_user_field: user_id, self.send_type_field: kind,
                self.send_content_field: content, self.send_request_id_field: request_id}

    def token_from(self, answer: dict[str, Any]) -> tuple[str, float] | None:
        """(token, lifetime in seconds) from a token answer; None if it carries no token."""
        token = _text(pick(answer, self.token_field))
        try:
            lifetime = float(pick(answer, self.token_expires_in_field))
        except (TypeError, ValueError):
            lifetime = self.token_default_expires_in
        return (token, lifetime) if token else None

    def pull_body(self, cursor: str | None, limit: int) -> dict[str, Any]:
        body: dict[str, Any] = {self.pull_limit_field: limit}
        if cursor:
            body[self.pull_cursor_field] = cursor
        return body

    def pull_page(self, answer: dict[str, Any]) -> tuple[list[dict[str, Any]], str, bool]:
        """(messages, next cursor, has more) from a pull answer."""
        messages = pick(answer, self.pull_messages_field)
        has_more = pick(answer, self.pull_has_more_field)
        return ([m for m in messages or [] if isinstance(m, dict)],
                _text(pick(answer, self.pull_next_cursor_field)),
                has_more is True or _text(has_more).lower() in ("1", "true"))

    def answer_error(self, answer: Any) -> tuple[str, str] | None:
        """(code, message) when an API answer reports a failure; None when it succeeded."""
        if not isinstance(answer, dict):
            return "bad_answer", "answer is not a JSON object"
        success = pick(answer, self.answer_success_field)
        code = pick(answer, self.answer_code_field)
        if success is True or (success is None and str(code) in ("0", "None")):
            return None
        return _text(code) or "error", _text(pick(answer, self.answer_message_field))

"""WeCom kf `msg_list` items and events -> csgw's InboundMessage (or None for what is not ours)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from csgw.gateway.messages import InboundMessage

ORIGIN_CUSTOMER, ORIGIN_EVENT, ORIGIN_AGENT_CLIENT = 3, 4, 5

# msg_send_fail fail_type -> what it means for the message
FAIL_TYPES = {
    0: "unknown reason",
    1: "message withdrawn",
    2: "customer refused the message",
    4: "outside the 48-hour window",
    6: "over the 5-message limit",
    8: "customer deleted the kf account",
    10: "customer refused messages from this account",
}

CUSTOMER_EVENTS = {"enter_session", "session_status_change", "user_recall_msg"}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def _text(msgtype: str, item: dict[str, Any]) -> str:
    body = _object(item.get(msgtype))
    if msgtype == "text":
        return str(body.get("content", ""))
    if msgtype == "location":
        return str(body.get("name") or body.get("address") or "")
    if msgtype == "link":
        return " ".join(p for p in (body.get("title", ""), body.get("url", "")) if p)
    if msgtype == "miniprogram":
        return str(body.get("title", ""))
    return ""


def _ts(item: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(item["send_time"]), UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None


def kf_event(item: dict[str, Any]) -> dict[str, Any] | None:
    """The event body of an `msgtype=event` item."""
    if item.get("msgtype") != "event":
        return None
    return dict(_object(item.get("event")))


def to_inbound(item: dict[str, Any], *, channel: str, account: str) -> InboundMessage | None:
    """Customer messages and customer-facing events; None for agent-client echoes and
    servicer/system events the channel handles itself (see `kf_event`)."""
    msgtype = str(item.get("msgtype", ""))
    origin = _int(item.get("origin"))
    if msgtype == "event":
        event = kf_event(item) or {}
        event_type = str(event.get("event_type", ""))
        if event_type not in CUSTOMER_EVENTS or not event.get("external_userid"):
            return None
        payload: dict[str, Any] = {"event": event_type, "open_kfid": event.get("open_kfid", "")}
        for key in ("scene", "scene_param", "welcome_code", "change_type", "old_servicer_userid",
                    "new_servicer_userid", "msg_code", "recall_msgid"):
            if key in event:
                payload[key] = event[key]
        return InboundMessage(
            channel=channel,
            account=account,
            user_id=str(event["external_userid"]),
            text="",
            external_id=str(item.get("msgid", "")),
            kind="event",
            payload=payload,
            platform_ts=_ts(item),
        )
    if origin != ORIGIN_CUSTOMER:
        return None
    body = item.get(msgtype)
    payload = {"msg_type": msgtype, "open_kfid": item.get("open_kfid", "")}
    if isinstance(body, dict):
        payload.update({k: v for k, v in body.items() if k != "content"})
    return InboundMessage(
        channel=channel,
        account=account,
        user_id=str(item.get("external_userid", "")),
        text=_text(msgtype, item),
        external_id=str(item.get("msgid", "")),
        kind=msgtype or "unknown",
        payload=payload,
        platform_ts=_ts(item),
    )

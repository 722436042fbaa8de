"""WeChat push bodies: safe parsing, normalisation into InboundMessage, passive reply XML."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from csgw.gateway.messages import InboundMessage
from csgw.gateway.webhook_requests import MAX_BODY_BYTES, PushRefused


def _element_to_value(element: Element) -> Any:
    children = list(element)
    if not children:
        return (element.text or "").strip()
    out: dict[str, Any] = {}
    for child in children:
        value = _element_to_value(child)
        if child.tag in out:  # repeated tags (e.g. item lists) become lists
            existing = out[child.tag]
            out[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[child.tag] = value
    return out


def parse_push(body: bytes, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """XML (or the newer JSON format) -> dict of the root's fields; hostile bodies raise PushRefused."""
    if len(body) > max_bytes:
        raise PushRefused(f"body larger than {max_bytes} bytes", status=413)
    stripped = body.lstrip()
    if stripped.startswith(b"{"):
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError) as exc:
            raise PushRefused("body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise PushRefused("JSON body is not an object")
        return {k: v if isinstance(v, dict | list) else str(v) for k, v in data.items()}
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise PushRefused(f"XML with DTD or entities refused ({type(exc).__name__})") from exc
    except ParseError as exc:
        raise PushRefused(f"body is not well-formed XML: {exc}") from exc
    try:
        value = _element_to_value(root)
    except RecursionError:
        raise PushRefused("XML nested too deeply") from None
    if not isinstance(value, dict):
        raise PushRefused("XML root has no fields")
    return value


def _created(fields: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(fields.get("CreateTime", "")), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _field(fields: dict[str, Any], key: str) -> str:
    """A text field; a nested element where text belongs (a malformed push) reads as empty."""
    value = fields.get(key, "")
    return value if isinstance(value, str) else ""


def _text_for(msg_type: str, f: dict[str, Any]) -> str:
    if msg_type == "text":
        return _field(f, "Content")
    if msg_type == "voice":
        return _field(f, "Recognition")
    if msg_type == "location":
        return _field(f, "Label") or f"{_field(f, 'Location_X')},{_field(f, 'Location_Y')}"
    if msg_type == "link":
        return " ".join(p for p in (_field(f, "Title"), _field(f, "Url")) if p)
    return ""


_PAYLOAD_KEYS = {
    "image": ("PicUrl", "MediaId"),
    "voice": ("MediaId", "Format", "Recognition"),
    "video": ("MediaId", "ThumbMediaId"),
    "location": ("Location_X", "Location_Y", "Scale", "Label"),
    "link": ("Title", "Description", "Url"),
    "event": ("Event", "EventKey", "Ticket", "Latitude", "Longitude", "Precision", "MenuId"),
}


def to_inbound(fields: dict[str, Any], *, channel: str, account: str) -> InboundMessage:
    """Normalise an OA push; the dedupe key is MsgId, or FromUserName+CreateTime+Event for events."""
    msg_type = str(fields.get("MsgType", "")).lower()
    kind = "video" if msg_type == "shortvideo" else msg_type
    user = str(fields.get("FromUserName", ""))
    payload: dict[str, Any] = {
        k: fields[k] for k in _PAYLOAD_KEYS.get(kind, ()) if fields.get(k) not in (None, "")
    }
    payload["msg_type"] = msg_type
    payload["to_user"] = _field(fields, "ToUserName")
    if kind == "event":
        event = str(fields.get("Event", ""))
        payload["event"] = event.lower() if event.lower() in ("subscribe", "unsubscribe") else event.upper()
        key = str(fields.get("EventKey", "") or "")
        if payload["event"] == "subscribe" and key.startswith("qrscene_"):
            payload["scene"] = key[len("qrscene_") :]
        # WeChat's rule is sender + CreateTime; the event name keeps two different events of
        # one second apart (a follow and a menu click), a click's key two buttons tapped within
        # one second, and a retry repeats them all
        external_id = f"{user}:{fields.get('CreateTime', '')}:{payload['event']}"
        if payload["event"] == "CLICK":
            external_id += f":{key}"
        text = ""
    else:
        external_id = str(fields.get("MsgId", "")) or f"{user}:{fields.get('CreateTime', '')}"
        text = _text_for(msg_type, fields)
    return InboundMessage(
        channel=channel,
        account=account,
        user_id=user,
        text=text,
        external_id=external_id,
        kind=kind or "unknown",
        payload=payload,
        platform_ts=_created(fields),
    )


def _cdata(value: str) -> str:
    # "]]>" cannot appear inside CDATA; split it across two sections
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_reply(
    *,
    to_user: str,
    from_user: str,
    create_time: int,
    text: str | None = None,
    image_media_id: str | None = None,
) -> str:
    """Passive reply XML: text, or an image by MediaId."""
    head = (
        f"<ToUserName>{_cdata(to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
    )
    if image_media_id is not None:
        body = f"<MsgType>{_cdata('image')}</MsgType><Image><MediaId>{_cdata(image_media_id)}</MediaId></Image>"
    elif text is not None:
        body = f"<MsgType>{_cdata('text')}</MsgType><Content>{_cdata(text)}</Content>"
    else:
        raise ValueError("a passive reply needs text or image_media_id")
    return f"<xml>{head}{body}</xml>"


def build_encrypted_envelope(*, encrypted: str, signature: str, timestamp: str, nonce: str) -> str:
    """The safe-mode reply wrapper around an encrypted passive reply."""
    return (
        f"<xml><Encrypt>{_cdata(encrypted)}</Encrypt>"
        f"<MsgSignature>{_cdata(signature)}</MsgSignature>"
        f"<TimeStamp>{int(timestamp)}</TimeStamp>"
        f"<Nonce>{_cdata(nonce)}</Nonce></xml>"
    )

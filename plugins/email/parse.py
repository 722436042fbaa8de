"""Parse one raw e-mail into text, addresses, threading headers and attachments stored on disk."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

from csgw.plugins.email.charsets import decode_bytes, decode_header_value
from csgw.plugins.email.html_text import html_to_text
from csgw.plugins.email.quoting import own_words

_MSGID = re.compile(r"<[^<>\s]+>")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f/\\:*?"<>|]+')


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    directory: Path | None
    max_bytes: int = 10 * 1024 * 1024
    max_total_bytes: int = 25 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str
    path: str | None  # None when not stored; `skipped` says why
    skipped: str | None = None
    content_id: str | None = None

    def as_payload(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "path": self.path,
            "skipped": self.skipped,
            "content_id": self.content_id,
        }


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message_id: str
    subject: str
    from_address: str  # lower-cased
    from_name: str
    to: list[str]
    cc: list[str]
    reply_to: str | None
    in_reply_to: list[str]
    references: list[str]
    date: datetime | None
    full_text: str  # everything the customer sent, quotes and signature included
    text: str  # the customer's own words, for matching
    html: str | None
    attachments: list[Attachment] = field(default_factory=list)
    headers: Message = field(default_factory=Message)  # the parsed message, for noise checks


def message_ids(value: object) -> list[str]:
    """Message-IDs in a header value, in order, angle brackets kept."""
    return _MSGID.findall(str(value or ""))


def synthetic_message_id(raw: bytes) -> str:
    """A stable id for mail without a Message-ID, so a resync recognises it."""
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@no-message-id.csgw>"


def parse_mail(raw: bytes, limits: AttachmentLimits) -> ParsedMail:
    """Parse raw RFC 5322 bytes; attachments within `limits` are written under its directory."""
    msg = message_from_bytes(raw)
    ids = message_ids(msg.get("Message-ID"))
    from_name, from_address = parseaddr(decode_header_value(msg.get("From")))
    reply_to = parseaddr(decode_header_value(msg.get("Reply-To")))[1] or None
    collector = _Collector(limits)
    collector.walk(msg)
    full_text = collector.body_text()
    return ParsedMail(
        message_id=ids[0] if ids else synthetic_message_id(raw),
        subject=decode_header_value(msg.get("Subject")),
        from_address=from_address.strip().lower(),
        from_name=from_name.strip(),
        to=_addresses(msg, "To") + _addresses(msg, "Delivered-To"),
        cc=_addresses(msg, "Cc"),
        reply_to=reply_to.lower() if reply_to else None,
        in_reply_to=message_ids(msg.get("In-Reply-To")),
        references=message_ids(" ".join(str(v) for v in msg.get_all("References") or [])),
        date=_date(msg.get("Date")),
        full_text=full_text,
        text=own_words(full_text),
        html=collector.html[0] if collector.html else None,
        attachments=collector.attachments,
        headers=msg,
    )


def _addresses(msg: Message, name: str) -> list[str]:
    values = [decode_header_value(v) for v in msg.get_all(name) or []]
    return [addr.lower() for _, addr in getaddresses(values) if addr]


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None


class _Collector:
    """Walks the MIME tree once: body text and HTML in order, everything else as attachments."""

    def __init__(self, limits: AttachmentLimits) -> None:
        self.limits = limits
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []
        self._stored_bytes = 0

    def walk(self, part: Message) -> None:
        ctype = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        if part.is_multipart() and ctype != "message/rfc822":
            # a multipart's payload is its list of parts (is_multipart() says so)
            children = [child for child in part.get_payload() if isinstance(child, Message)]
            if ctype == "multipart/alternative":
                self._alternative(children)
            else:
                for child in children:
                    self.walk(child)
        elif ctype in ("text/plain", "text/html") and disposition != "attachment":
            payload = part.get_payload(decode=True)  # bytes (or None) for a part that is no multipart
            text = decode_bytes(payload if isinstance(payload, bytes) else b"", part.get_content_charset())
            (self.plain if ctype == "text/plain" else self.html).append(text)
        else:
            self._attachment(part)

    def _alternative(self, children: list[Message]) -> None:
        # Prefer the plain part a client wrote itself; fall back to the richest other part.
        plain = [c for c in children if c.get_content_type() == "text/plain"]
        html = [c for c in children if c.get_content_type() == "text/html"]
        for child in children:
            if child in plain[:1] or child in html[:1] or child.is_multipart():
                self.walk(child)

    def body_text(self) -> str:
        if any(p.strip() for p in self.plain):
            return "\n\n".join(p.strip() for p in self.plain if p.strip())
        return "\n\n".join(html_to_text(h) for h in self.html).strip()

    def _attachment(self, part: Message) -> None:
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            data = inner[0].as_bytes() if isinstance(inner, list) and inner and isinstance(inner[0], Message) else b""
            default_name = "message.eml"
        else:
            payload = part.get_payload(decode=True)  # bytes (or None): this part is no multipart
            data = payload if isinstance(payload, bytes) else b""
            default_name = "attachment"
        name = decode_header_value(part.get_filename() or part.get_param("name") or default_name)
        name = _UNSAFE_NAME.sub("_", name).strip(" .") or default_name
        digest = hashlib.sha256(data).hexdigest()
        content_id = message_ids(part.get("Content-ID"))
        skipped = self._skip_reason(len(data))
        path = None
        if skipped is None and self.limits.directory is not None:
            # Content-addressed, so parsing the same mail twice (a resync) writes nothing new.
            target = self.limits.directory / digest[:2] / digest / name[-120:]
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                tmp = target.with_name(target.name + ".part")
                tmp.write_bytes(data)
                tmp.replace(target)
            path = str(target)
            self._stored_bytes += len(data)
        self.attachments.append(
            Attachment(
                filename=name,
                content_type=part.get_content_type(),
                size=len(data),
                sha256=digest,
                path=path,
                skipped=skipped if skipped or path else "no_directory",
                content_id=content_id[0] if content_id else None,
            )
        )

    def _skip_reason(self, size: int) -> str | None:
        if size > self.limits.max_bytes:
            return "too_large"
        if self._stored_bytes + size > self.limits.max_total_bytes:
            return "total_too_large"
        return None

"""Build outbound mail: text and HTML parts, threading headers, a deterministic Message-ID."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from csgw.plugins.email.threading import ThreadContext, clean_subject, plus_address, subject_token

_ID_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class Sender:
    """The shop's From: `Shop <support@shop.example>` or a bare address."""

    name: str
    address: str

    @classmethod
    def parse(cls, from_address: str) -> Sender:
        name, address = parseaddr(from_address)
        if "@" not in address:
            raise ValueError(f"from_address {from_address!r} is not an e-mail address")
        return cls(name=name, address=address.lower())

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


def outbound_message_id(account: str, message_id: int, thread_key: str, domain: str) -> str:
    """The same outbox message always gets the same Message-ID, so a retried send is recognisable."""
    return f"<csgw.{_ID_SAFE.sub('-', account)}.{message_id}.{thread_key}@{domain}>"


def reply_subject(context: ThreadContext) -> str:
    base = clean_subject(context.subject) or "Your message"
    return f"Re: {base} {subject_token(context.thread_key)}"


def text_to_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = "".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.splitlines()) + "</p>\n"
        for p in paragraphs
    )
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{body}</body></html>\n'
    )


def compose(
    *,
    sender: Sender,
    context: ThreadContext,
    text: str,
    message_id: str,
    automatic: bool,
    html_body: str | None = None,
    plus_reply_to: bool = False,
    now: datetime | None = None,
) -> EmailMessage:
    """A reply in `context`'s thread; `automatic` marks bot mail so other robots stay quiet."""
    mail = EmailMessage()
    mail["From"] = formataddr((sender.name, sender.address)) if sender.name else sender.address
    mail["To"] = context.customer
    mail["Subject"] = reply_subject(context)
    mail["Date"] = format_datetime(now or datetime.now(UTC))
    mail["Message-ID"] = message_id
    if plus_reply_to:
        mail["Reply-To"] = plus_address(sender.address, context.thread_key)
    if context.last_message_id:
        mail["In-Reply-To"] = context.last_message_id
        mail["References"] = " ".join(context.references or [context.last_message_id])
    if automatic:
        mail["Auto-Submitted"] = "auto-replied"  # RFC 3834: no robot should answer this
        mail["X-Auto-Response-Suppress"] = "All"  # Exchange's out-of-office replies stay quiet
    mail["X-CSGW-Thread"] = context.thread_key
    mail.set_content(text, charset="utf-8")
    mail.add_alternative(html_body or text_to_html(text), subtype="html", charset="utf-8")
    return mail

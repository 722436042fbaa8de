"""Which conversation a mail belongs to: headers first, then the subject token or plus-address."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import asdict, dataclass, field

from csgw.plugins.email.parse import ParsedMail
from csgw.plugins.email.state import AccountState

TOKEN_PREFIX = "CS-"
_TOKEN = re.compile(r"\[#(CS-[A-Z2-7]{8})\]", re.IGNORECASE)
_PLUS = re.compile(r"^[^+@]+\+(cs-[a-z2-7]{8})@", re.IGNORECASE)
_REPLY_PREFIX = re.compile(
    r"^\s*((re|aw|fw|fwd|sv|回复|回覆|答复|答覆|转发|轉寄)\s*(\[\d+\])?\s*[:：]\s*)+", re.IGNORECASE
)
# Our own Message-IDs carry the thread key, so a reply that keeps only In-Reply-To still lands.
_OWN_ID = re.compile(r"^<csgw\.[^.@]+\.\d+\.(CS-[A-Z2-7]{8})@", re.IGNORECASE)


def thread_key_for(message_id: str) -> str:
    """A short stable conversation token derived from a thread's first Message-ID."""
    digest = hashlib.sha256(message_id.encode()).digest()
    return TOKEN_PREFIX + base64.b32encode(digest).decode()[:8]


def subject_token(thread_key: str) -> str:
    return f"[#{thread_key}]"


def clean_subject(subject: str) -> str:
    """The subject without reply prefixes or our token, as a customer first wrote it."""
    without_token = _TOKEN.sub("", subject)
    return re.sub(r"\s+", " ", _REPLY_PREFIX.sub("", without_token)).strip()


def plus_address(address: str, thread_key: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local}+{thread_key.lower()}@{domain}"


@dataclass(slots=True)
class ThreadContext:
    """What a reply in this thread needs: whom to write, what subject, which headers to cite."""

    thread_key: str
    customer: str
    subject: str
    last_message_id: str | None = None
    references: list[str] = field(default_factory=list)
    last_inbound_noise: str | None = None  # the newest customer mail was an auto-reply/bounce/list


@dataclass(frozen=True, slots=True)
class ThreadMatch:
    thread_key: str
    via: str  # header, own_id, token, plus_address, subject, new


class ThreadIndex:
    """Finds and records threads in the account's state (`msg:`, `thread:`, `conv:`, `subj:` keys)."""

    def __init__(self, state: AccountState) -> None:
        self.state = state

    async def match(self, mail: ParsedMail) -> ThreadMatch:
        for ref in [*mail.in_reply_to, *reversed(mail.references)]:
            known = await self.state.get(f"msg:{ref}")
            if known:
                return ThreadMatch(known, "header")
            own = _OWN_ID.match(ref)
            if own:
                return ThreadMatch(own.group(1).upper(), "own_id")
        fallback = await self._fallback(mail)
        if fallback:
            return fallback
        if mail.references:
            # A thread we never saw the start of: its root still names it consistently.
            return ThreadMatch(thread_key_for(mail.references[0]), "header")
        if mail.in_reply_to:
            return ThreadMatch(thread_key_for(mail.in_reply_to[0]), "header")
        return ThreadMatch(thread_key_for(mail.message_id), "new")

    async def _fallback(self, mail: ParsedMail) -> ThreadMatch | None:
        candidates: list[tuple[str, str]] = []
        token = _TOKEN.search(mail.subject)
        if token:
            candidates.append((token.group(1).upper(), "token"))
        for address in mail.to + mail.cc:
            plus = _PLUS.match(address)
            if plus:
                candidates.append((plus.group(1).upper(), "plus_address"))
        if _REPLY_PREFIX.match(mail.subject):
            by_subject = await self.state.get(self._subject_key(mail.from_address, mail.subject))
            if by_subject:
                candidates.append((by_subject, "subject"))
        for key, via in candidates:
            context = await self.context(key)
            # Only the thread's own customer may continue it by token, or anyone could write
            # into another customer's conversation by copying a subject.
            if context is not None and context.customer == mail.from_address:
                return ThreadMatch(key, via)
        return None

    async def context(self, thread_key: str) -> ThreadContext | None:
        data = await self.state.get_json(f"thread:{thread_key}")
        return ThreadContext(**data) if data else None

    async def record_inbound(
        self, thread_key: str, mail: ParsedMail, noise: str | None
    ) -> ThreadContext:
        """Remember an accepted customer mail as the newest in its thread."""
        context = await self.context(thread_key) or ThreadContext(
            thread_key=thread_key, customer=mail.from_address, subject=clean_subject(mail.subject)
        )
        context.last_message_id = mail.message_id
        context.references = _chain(mail.references or mail.in_reply_to, mail.message_id)
        context.last_inbound_noise = noise
        await self.state.set(self._subject_key(mail.from_address, mail.subject), thread_key)
        await self.state.set_json(f"thread:{thread_key}", asdict(context))
        return context

    async def mark_stored(self, message_id: str, thread_key: str, conversation_id: int) -> None:
        """The gateway has the mail: a resync now skips it, and replies find the thread."""
        await self.link_conversation(conversation_id, thread_key)
        await self.state.set(f"msg:{message_id}", thread_key)

    async def record_outbound(self, context: ThreadContext, message_id: str) -> None:
        """Remember our sent mail, so the customer's reply to it finds the thread."""
        context.references = _chain(context.references, message_id)
        context.last_message_id = message_id
        await self.state.set(f"msg:{message_id}", context.thread_key)
        await self.state.set_json(f"thread:{context.thread_key}", asdict(context))

    async def link_conversation(self, conversation_id: int, thread_key: str) -> None:
        await self.state.set(f"conv:{conversation_id}", thread_key)

    async def for_conversation(self, conversation_id: int) -> ThreadContext | None:
        key = await self.state.get(f"conv:{conversation_id}")
        return await self.context(key) if key else None

    async def is_known(self, message_id: str) -> bool:
        return await self.state.get(f"msg:{message_id}") is not None

    @staticmethod
    def _subject_key(sender: str, subject: str) -> str:
        digest = hashlib.sha256(clean_subject(subject).lower().encode()).hexdigest()[:16]
        return f"subj:{sender}:{digest}"


def _chain(references: list[str], message_id: str) -> list[str]:
    """References for a reply to `message_id` (RFC 5322 §3.6.4), kept to a sane length."""
    chain = [r for r in references if r != message_id] + [message_id]
    # Keep the root and the newest ids: servers reject very long header lines.
    return chain if len(chain) <= 10 else [chain[0], *chain[-9:]]

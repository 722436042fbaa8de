"""The `email` channel: one shop mailbox in over IMAP, replies out over SMTP, threads kept.

With several instances on one store, one reads the mailbox (IDLE or polling): the one leading
`poll:email:<account>`. The others keep no IMAP connection and take over when it is gone; every
instance sends.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import SecretStr, model_validator

from csgw.gateway.channel import (
    Channel,
    ChannelConfig,
    ChannelConfigError,
    ChannelNotReady,
    SendError,
)
from csgw.gateway.leadership import poll_role, while_leading
from csgw.gateway.messages import InboundMessage, OutboundMessage
from csgw.plugins.email.compose import Sender, compose, outbound_message_id
from csgw.plugins.email.imap_sync import (
    FetchedMail,
    ImapAuthError,
    ImapInbound,
    ImapSettings,
    ImapUnavailable,
)
from csgw.plugins.email.noise import BotMailGuard, detect_noise
from csgw.plugins.email.parse import AttachmentLimits, ParsedMail, parse_mail
from csgw.plugins.email.smtp_send import SmtpSettings, send_mail
from csgw.plugins.email.state import AccountState
from csgw.plugins.email.threading import ThreadContext, ThreadIndex, ThreadMatch, thread_key_for

if TYPE_CHECKING:
    from csgw.gateway.ports import ChannelHost

_MAX_HTML_CHARS = 200_000


class EmailConfig(ChannelConfig):
    imap_host: str
    imap_port: int = 993
    imap_ssl: bool = True
    imap_user: str
    imap_password: SecretStr
    mailbox: str = "INBOX"
    smtp_host: str
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    from_address: str
    attachment_dir: str | None = None  # default: <data_dir>/attachments/email/<account>
    attachment_max_bytes: int = 10 * 1024 * 1024
    attachment_total_max_bytes: int = 25 * 1024 * 1024

    @model_validator(mode="after")
    def _check(self) -> EmailConfig:
        if self.smtp_ssl and self.smtp_starttls:
            raise ValueError("smtp_ssl and smtp_starttls exclude each other: pick one")
        Sender.parse(self.from_address)
        return self


class EmailChannel(Channel):
    plugin: ClassVar[str] = "email"
    Config: ClassVar[type[ChannelConfig]] = EmailConfig
    # Timing knobs that are not configuration (tests shorten them).
    imap_tuning: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: ChannelConfig, services: ChannelHost) -> None:
        super().__init__(config, services)
        self.cfg: EmailConfig = config  # type: ignore[assignment]
        self.sender = Sender.parse(self.cfg.from_address)
        self.state = AccountState(services.cursors, self.plugin, config.account)
        self.threads = ThreadIndex(self.state)
        self.limiter = BotMailGuard(services.limits, config.account)
        self.own_addresses = {self.sender.address}
        if "@" in self.cfg.imap_user:
            self.own_addresses.add(self.cfg.imap_user.lower())
        self.inbound = ImapInbound(self._imap_settings(), self.state, self._deliver, self.log)
        self.inbound.on_connection_change = self._connection_changed
        self.role = poll_role(self.plugin, config.account)
        self.reading = False  # this instance reads the mailbox (it leads the role)
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in once (wrong credentials fail the start on every instance), then read the
        mailbox wherever this instance leads the account's poll role."""
        try:
            await self.inbound.connect()
        except ImapAuthError as exc:
            raise ChannelConfigError(str(exc)) from exc
        except ImapUnavailable as exc:
            raise ChannelNotReady(str(exc)) from exc
        leadership = self.services.leadership
        if not await leadership.try_lead(self.role):
            await self._stand_by()
        self._task = asyncio.create_task(
            while_leading(leadership, self.role, self._read_mail, on_change=self._reading),
            name=f"email-imap-{self.account}")

    async def _read_mail(self) -> None:
        try:
            await self.inbound.run()
        finally:
            await self._stand_by()

    async def _stand_by(self) -> None:
        """Another instance reads the mailbox: no connection here, and none is missed."""
        await self.inbound.close()
        self.stats.connected = None

    def _reading(self, reading: bool) -> None:
        self.reading = reading

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.inbound.close()

    def health_detail(self) -> dict[str, Any]:
        return {**self.inbound.health(), "polling": self.reading}

    # --- inbound --------------------------------------------------------------------------------

    async def _deliver(self, fetched: FetchedMail) -> None:
        """Parse, classify and thread one mail, and return once the gateway has stored it."""
        mail = await asyncio.to_thread(parse_mail, fetched.raw, self._attachment_limits())
        if await self.threads.is_known(mail.message_id):
            self.log.info("email.duplicate_skipped", message_id=mail.message_id, uid=fetched.uid)
            return
        noise = detect_noise(mail.headers, mail.from_address, mail.subject, self.own_addresses)
        match = await self.threads.match(mail)
        inbound = self._inbound_message(mail, fetched, match, noise.as_payload() if noise else None)
        await self.threads.record_inbound(match.thread_key, mail, noise.kind if noise else None)
        accepted = await self.services.accept(inbound)
        await self.threads.mark_stored(mail.message_id, match.thread_key, accepted.conversation_id)
        self.stats.success()
        self.log.info(
            "email.received",
            message_id=mail.message_id,
            uid=fetched.uid,
            thread_key=match.thread_key,
            thread_via=match.via,
            noise=noise.kind if noise else None,
            duplicate=accepted.duplicate,
        )

    def _inbound_message(
        self,
        mail: ParsedMail,
        fetched: FetchedMail,
        match: ThreadMatch,
        noise: dict[str, str] | None,
    ) -> InboundMessage:
        text = mail.text or mail.subject
        payload = {
            "subject": mail.subject,
            "message_id": mail.message_id,
            "in_reply_to": mail.in_reply_to,
            "references": mail.references,
            "from": mail.from_address,
            "to": mail.to,
            "cc": mail.cc,
            "full_text": mail.full_text,
            "html": mail.html[:_MAX_HTML_CHARS] if mail.html else None,
            "attachments": [a.as_payload() for a in mail.attachments],
            "noise": noise,
            "no_auto_reply": noise is not None,  # the bot must not answer; agents still see it
            "thread_via": match.via,
            "imap": {
                "mailbox": self.cfg.mailbox,
                "uidvalidity": fetched.uidvalidity,
                "uid": fetched.uid,
            },
        }
        return InboundMessage(
            channel=self.plugin,
            account=self.account,
            user_id=mail.from_address or "mailer-daemon",
            text=text,
            external_id=mail.message_id,
            kind="file" if not text and mail.attachments else "text",
            payload=payload,
            platform_ts=mail.date or fetched.internal_date,
            profile={"name": mail.from_name, "email": mail.from_address},
            thread_key=match.thread_key,
        )

    # --- outbound -------------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> None:
        try:
            await self._send(message)
        except SendError as exc:
            self.stats.failure(str(exc), exc.code)
            raise
        self.stats.success()

    async def _send(self, message: OutboundMessage) -> None:
        context = await self._context_for(message)
        if "@" not in context.customer:
            raise SendError(
                f"no e-mail address to write to ({context.customer!r})",
                retryable=False,
                code="email_no_address",
            )
        automatic = message.sender in ("bot", "system")
        if automatic and context.last_inbound_noise:
            raise SendError(
                f"the newest mail in this thread is {context.last_inbound_noise}; the bot does not answer it",
                retryable=False,
                code="email_noise",
            )
        if automatic and not await self.limiter.allows(context.customer):
            raise SendError(
                "too many automatic mails to this address; loop guard",
                retryable=False,
                code="email_loop_guard",
            )
        message_id = outbound_message_id(
            self.account, message.message_id, context.thread_key, self.sender.domain
        )
        mail = compose(
            sender=self.sender,
            context=context,
            text=message.text,
            message_id=message_id,
            automatic=automatic,
            html_body=message.payload.get("html"),
        )
        await send_mail(self._smtp_settings(), mail)
        if automatic:
            await self.limiter.record(context.customer)
        await self.threads.record_outbound(context, message_id)
        self.log.info(
            "email.sent",
            message_id=message_id,
            thread_key=context.thread_key,
            attempt=message.attempt,
        )

    async def _context_for(self, message: OutboundMessage) -> ThreadContext:
        # The conversation's thread key, when the gateway passes it, beats our conversation link:
        # the bot's first reply can be sent before that link is written.
        thread_key = getattr(message, "thread_key", None) or message.payload.get("thread_key")
        context = await self.threads.context(thread_key) if thread_key else None
        if context is not None:
            await self.threads.link_conversation(message.conversation_id, context.thread_key)
            return context
        context = await self.threads.for_conversation(message.conversation_id)
        if context is not None:
            return context
        # A conversation that did not start with a mail here (an agent writes first).
        key = thread_key_for(f"<conversation.{message.conversation_id}@{self.account}>")
        context = ThreadContext(
            thread_key=key,
            customer=message.user_id.lower(),
            subject=str(message.payload.get("subject") or ""),
        )
        await self.threads.link_conversation(message.conversation_id, key)
        return context

    # --- settings -------------------------------------------------------------------------------

    def _imap_settings(self) -> ImapSettings:
        return ImapSettings(
            host=self.cfg.imap_host,
            port=self.cfg.imap_port,
            ssl=self.cfg.imap_ssl,
            user=self.cfg.imap_user,
            password=self.cfg.imap_password.get_secret_value(),
            mailbox=self.cfg.mailbox,
            **self.imap_tuning,
        )

    def _smtp_settings(self) -> SmtpSettings:
        return SmtpSettings(
            host=self.cfg.smtp_host,
            port=self.cfg.smtp_port,
            starttls=self.cfg.smtp_starttls,
            ssl=self.cfg.smtp_ssl,
            user=self.cfg.smtp_user,
            password=self.cfg.smtp_password.get_secret_value() if self.cfg.smtp_password else None,
        )

    def _attachment_limits(self) -> AttachmentLimits:
        directory = (
            Path(self.cfg.attachment_dir)
            if self.cfg.attachment_dir
            else self._data_dir() / "attachments" / "email" / self.account
        )
        return AttachmentLimits(
            directory=directory,
            max_bytes=self.cfg.attachment_max_bytes,
            max_total_bytes=self.cfg.attachment_total_max_bytes,
        )

    def _data_dir(self) -> Path:
        data_dir = getattr(self.services, "data_dir", None)
        if data_dir is None:
            data_dir = self.services.settings.server.data_dir
        return Path(data_dir)

    def _connection_changed(self, connected: bool, error: str | None) -> None:
        if error:
            self.stats.failure(error, "imap")
        self.stats.set_connected(connected)

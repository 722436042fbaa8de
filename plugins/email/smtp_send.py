"""Send one composed mail over SMTP; failures become `SendError` with the right retry decision."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from csgw.gateway.channel import SendError


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    starttls: bool
    ssl: bool
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0


async def send_mail(settings: SmtpSettings, mail: EmailMessage) -> None:
    """Hand `mail` to the SMTP server; 4xx and connection trouble are retryable, 5xx is not."""
    try:
        await aiosmtplib.send(
            mail,
            hostname=settings.host,
            port=settings.port,
            username=settings.user or None,
            password=settings.password or None,
            use_tls=settings.ssl,
            start_tls=False if settings.ssl else settings.starttls,
            timeout=settings.timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        raise SendError(
            f"recipients refused: {detail}",
            retryable=all(_transient(code) for code in codes),
            code=f"smtp_{max(codes)}" if codes else "smtp_refused",
        ) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise SendError(
            f"SMTP {exc.code}: {exc.message}",
            retryable=_transient(exc.code),
            code=f"smtp_{exc.code}",
        ) from exc
    except aiosmtplib.SMTPNotSupported as exc:
        raise SendError(
            f"SMTP server lacks a required feature: {exc}",
            retryable=False,
            code="smtp_not_supported",
        ) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SendError(
            f"SMTP server unreachable: {exc}", retryable=True, code="smtp_unreachable"
        ) from exc


def _transient(code: int) -> bool:
    return 400 <= code < 500

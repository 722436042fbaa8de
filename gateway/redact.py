"""Secrets out of every text that leaves the process: logs, stored errors, health pages.

Platform calls carry credentials in their URLs (WeChat's `?secret=` and `?access_token=`, WeCom's
`corpsecret`) and an HTTP library's exception text carries the URL. Rather than trusting each
channel to scrub its own messages, error types, connection statistics and the log pipeline all
pass their text through `redact`.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

# Query or form parameters whose value is a credential.
SECRET_NAMES = ("access_token", "secret", "appsecret", "app_secret", "corpsecret", "token",
                "password", "passwd", "pass", "key", "encoding_aes_key", "aeskey", "api_key",
                "apikey", "client_secret", "refresh_token", "sign", "signature", "msg_signature",
                "sig")
_NAMES = "|".join(re.escape(name) for name in sorted(SECRET_NAMES, key=len, reverse=True))
# a name starts the text or follows a separator: a non-word character, or an encoded ? or &
_PARAMETER = re.compile(
    r"(?i)(?:(?<![A-Za-z0-9_])|(?<=%3F)|(?<=%26))(?P<name>" + _NAMES
    + r")(?P<sep>=|%3D)(?P<value>[^&\s'\"#<>,;)\]}%]+(?:%(?!26)[0-9A-F]{2}[^&\s'\"#<>,;)\]}%]*)*)")
# user:password@host in a URL (an IMAP or SMTP URL, a proxy); the user may be an e-mail address
_AUTHORITY = re.compile(r"(?i)(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<authority>[^/\s'\"<>]+)")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
MASK = "***"


def redact(text: str) -> str:
    """`text` with credential values replaced by ***."""
    if not text or ("=" not in text and "%3D" not in text and "@" not in text
                    and "earer" not in text):
        return text  # the common case (every log line passes here): nothing shaped like a secret
    text = _PARAMETER.sub(lambda m: f"{m['name']}{m['sep']}{MASK}", text)
    text = _AUTHORITY.sub(_mask_password, text)
    return _BEARER.sub(lambda m: f"{m[1]}{MASK}", text)


def _mask_password(match: re.Match[str]) -> str:
    userinfo, at, host = match["authority"].rpartition("@")
    user, colon, _password = userinfo.partition(":")
    if not at or not colon:
        return match[0]
    return f"{match['scheme']}{user}:{MASK}@{host}"


def redact_value(value: Any) -> Any:
    """Strings redacted, containers walked, everything else as it is."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item) for item in value)
    return value


def redact_event(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
    """structlog processor: every string in a log line, the rendered traceback included."""
    return {key: redact_value(value) for key, value in event.items()}

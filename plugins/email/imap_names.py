"""Mailbox names on the IMAP wire: modified UTF-7 (RFC 3501 §5.1.3), quoted, so `客服` works."""

from __future__ import annotations

import base64


def encode_mailbox(name: str) -> str:
    """`name` as a quoted IMAP mailbox argument."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    encoded = "".join(out)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'

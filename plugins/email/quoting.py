"""Find where a customer's own words end: quoted replies and signatures, Western and Chinese clients."""

from __future__ import annotations

import re

# A line that starts the quoted original in replies from common clients (Gmail, Outlook,
# Apple Mail, QQ Mail, NetEase 163/126, Foxmail, Tencent Exmail).
_REPLY_HEADER = re.compile(
    r"""^(
        On\ .{4,200}\ wrote:\s*$
      | 在\ ?.{2,120}(写道|寫道)[:：]\s*$
      | -{2,}\s*(Original\ Message|Forwarded\ message|原始邮件|原始郵件|转发邮件|轉寄郵件)\s*-{2,}\s*$
      | _{8,}\s*$
      | (From|发件人|發件人|寄件者)\s*[:：].+$
    )""",
    re.IGNORECASE | re.VERBOSE,
)

_SIGNATURE = re.compile(
    r"""^(
        --\ ?$
      | (Sent\ from|Get\ Outlook\ for)\ .{1,60}$
      | 发自我的.{1,30}$
      | 發自我的.{1,30}$
      | 发自(网易|網易|QQ|手机|Foxmail|WPS).{0,30}$
      | 来自.{1,20}(客户端|邮箱)$
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def own_words(text: str) -> str:
    """The new part of a reply: drop `>` quotes, everything from a reply header on, and signatures."""
    kept: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if _REPLY_HEADER.match(stripped) or _SIGNATURE.match(line.rstrip()):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    result = "\n".join(kept).strip()
    return result or text.strip()

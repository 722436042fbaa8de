"""Decoding mail text in the charsets Chinese mail actually uses, including the mislabelled ones."""

from __future__ import annotations

import codecs
from email.header import Header, decode_header

# Clients label GBK (and GB18030) text as gb2312 all the time; GB18030 is a superset of both,
# and Big5-HKSCS of Big5, so decoding with the superset never loses the extra characters.
SUPERSETS = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "euccn": "gb18030",
    "x-euc-cn": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}

# Tried in order when a part names no charset, or a wrong one.
FALLBACKS = ("utf-8", "gb18030", "big5hkscs")


def codec_for(label: str | None) -> str | None:
    """The codec to decode text labelled `label` with, or None when the label is unknown."""
    if not label:
        return None
    name = label.strip().strip('"').lower()
    name = SUPERSETS.get(name, name)
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Decode mail text: the labelled charset (widened), then common fallbacks, never raising."""
    first = codec_for(label)
    tried = []
    for name in ((first,) if first else ()) + FALLBACKS:
        if name in tried:
            continue
        tried.append(name)
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode(first or "utf-8", errors="replace")


def decode_header_value(value: object) -> str:
    """Decode a raw header (RFC 2047 words in any charset, or raw 8-bit bytes) to text."""
    if value is None:
        return ""
    if isinstance(value, Header):
        # compat32 hands raw 8-bit headers over as `unknown-8bit` Header objects.
        chunks = decode_header(value)
        return "".join(
            decode_bytes(c, cs) if isinstance(c, bytes) else c for c, cs in chunks
        ).strip()
    text = str(value)
    # compat32 keeps raw 8-bit header bytes as surrogate escapes; recover and decode them.
    try:
        text.encode("ascii")
    except UnicodeEncodeError:
        try:
            return decode_bytes(text.encode("ascii", "surrogateescape")).strip()
        except UnicodeEncodeError:
            return text.strip()
    parts = []
    for chunk, charset in decode_header(text):
        if isinstance(chunk, bytes):
            parts.append(decode_bytes(chunk, charset))
        else:
            parts.append(chunk)
    return "".join(parts).strip()

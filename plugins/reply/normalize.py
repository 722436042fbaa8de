"""Text normalisation shared by every matcher: one canonical form for what customers type.

Traditional characters become simplified (OpenCC t2s), full-width forms half-width, letters
lower case; emoji, WeChat's ``[微笑]`` codes and punctuation are dropped; whitespace is folded.
Digits are kept, so order numbers and sizes survive.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

# WeChat and most Chinese chat apps send their sticker emoji as short bracketed names.
_BRACKET_EMOJI = re.compile(r"\[[^\[\]\s]{1,4}\]")
_SPACES = re.compile(r"\s+")
# Variation selectors and the keycap/zero-width joiners that glue emoji sequences together.
_INVISIBLE = {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x20E3}


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _keep(char: str) -> str:
    """The character itself if it carries meaning, a space if it separates, else nothing."""
    code = ord(char)
    if char.isspace():
        return " "
    if code in _INVISIBLE or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:
        return ""
    category = unicodedata.category(char)
    if category[0] in "LN":
        return char
    if category[0] in "PS" or category[0] == "Z":
        # punctuation and symbols (emoji are So) still separate the words around them
        return " "
    if category[0] == "M":
        return char
    return ""


def to_simplified(text: str) -> str:
    """Traditional Chinese characters to simplified ones, everything else unchanged."""
    return _t2s().convert(text)


# A knowledge base repeats its keywords across entries (a 1,000-entry one: ~9,500 keyword words,
# a few hundred distinct), and each is normalised when the entries are read and again when the
# rules are compiled; customers repeat each other's questions word for word.
@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """The canonical form of `text` that keyword rules and retrieval both match against."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)  # full width -> half width, ① -> 1
    text = _BRACKET_EMOJI.sub(" ", text)
    text = to_simplified(text).casefold()
    text = "".join(_keep(char) for char in text)
    return _SPACES.sub(" ", text).strip()


def compact(text: str) -> str:
    """`normalize` without any spaces, for character-level comparison of Chinese text."""
    return normalize(text).replace(" ", "")

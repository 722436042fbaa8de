"""A rating's comment: the words a customer may add after the 1-5 score, cleaned for storing and
showing, and whether a message soon after a rating is that comment or a new question.

A customer rating by message (WeChat, e-mail, …) is invited to comment; the next text within
`[reply] comment_window_seconds` is the comment when the score was 3 or lower (an unhappy
customer is most likely saying why, even as a question: "为什么没人回复？") or when it does not
look like a question. A lone number (a second rating, a menu choice) never is one. The customer
is thanked and told a new question is welcome, so a question taken for a comment is not lost.
"""

from __future__ import annotations

import re
import unicodedata

MAX_COMMENT = 500  # characters kept; the widget refuses more, a longer message's comment is trimmed
UNHAPPY = 3  # at or below this score the next text is the comment even when it asks something
# Direction controls: in a comment they could make the console or a terminal show what follows reversed.
DIRECTION_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
QUESTION_WORDS = ("吗", "嗎", "什么", "什麼", "怎么", "怎麼", "怎样", "怎樣", "如何", "为什么", "為什麼", "为何",
                  "為何", "多少", "多久", "几", "幾", "哪", "是否", "能否", "能不能", "可不可以", "可以不", "有没有",
                  "有沒有", "请问", "請問", "在吗", "人工")
QUESTION_START = re.compile(r"^(how|what|when|where|why|who|which|can|could|do|does|did|is|are|will|would|"
                            r"should|may)\b", re.IGNORECASE)


class CommentError(ValueError):
    """A comment the widget may not send: the message says why, for the visitor."""


def clean_comment(raw: str, *, trim: bool = True) -> str | None:
    """The comment as stored: NFC; control characters dropped (a newline stays, a tab becomes a
    space), direction controls and lone surrogates dropped; spaces at the ends and blank lines
    beyond one in a row gone. None when nothing is left. Longer than `MAX_COMMENT`: cut to it
    (ending in "…") with `trim`, else CommentError."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\t", " "))
    text = "".join(char for char in text if char == "\n" or not _dropped(char))
    text = re.sub(r"\n[ \n]*\n", "\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()
    if not text:
        return None
    if len(text) > MAX_COMMENT:
        if not trim:
            raise CommentError(f"a comment is at most {MAX_COMMENT} characters")
        text = text[:MAX_COMMENT - 1].rstrip() + "…"
    return text


def _dropped(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cs") or char in DIRECTION_CONTROLS


def looks_like_question(text: str) -> bool:
    """A question mark, a question word (吗, 怎么, 哪, 多少, 请问, …; "人工": asking for a person),
    or English starting with how/what/can/is/…"""
    folded = unicodedata.normalize("NFKC", text).strip()
    return ("?" in folded or any(word in folded for word in QUESTION_WORDS) or folded.endswith("呢")
            or bool(QUESTION_START.match(folded)))


def takes_comment(text: str, score: int) -> bool:
    """Whether a text after a rating of `score` is its comment (see the module's rule)."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if not folded or folded.isdigit():
        return False
    return score <= UNHAPPY or not looks_like_question(folded)

"""Visitor frames of the widget protocol, parsed and checked; bad frames get an error frame."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from csgw.gateway.rating_comments import MAX_COMMENT, CommentError, clean_comment
from csgw.gateway.storage.values import MAX_ID, is_storable

CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")  # \Z: "$" would let a trailing newline in
MAX_NAME = 64
# a phone number (+86 138-0000 0000), a WeChat ID (letters, digits, _ and -) or an e-mail address
CONTACT = re.compile(r"^[A-Za-z0-9+_.@() -]{3,64}\Z")


class FrameError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def frame(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "message": str(self)}


@dataclass(frozen=True, slots=True)
class VisitorMessage:
    client_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Resume:
    after: int


@dataclass(frozen=True, slots=True)
class Typing:
    pass


@dataclass(frozen=True, slots=True)
class Survey:
    score: int
    comment: str | None = None  # cleaned; None: none given (one given before stays)


@dataclass(frozen=True, slots=True)
class LeftMessage:
    """The leave-a-message form, sent while the desk is closed."""

    client_id: str
    name: str  # "" when not given
    contact: str  # phone number or WeChat ID
    text: str


def parse_frame(raw: str, max_text: int) -> VisitorMessage | Resume | Typing | Survey | LeftMessage:
    try:
        frame = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise FrameError("bad_json", "the frame is not valid JSON") from None
    if not isinstance(frame, dict):
        raise FrameError("bad_frame", "a frame is a JSON object")
    kind = frame.get("type")
    if kind == "message":
        return VisitorMessage(_client_id(frame), _text(frame, max_text))
    if kind == "leave_message":
        return LeftMessage(_client_id(frame), _name(frame.get("name")), _contact(frame.get("contact")),
                           _text(frame, max_text))
    if kind == "resume":
        after = frame.get("after", 0)
        if after is None:
            after = 0
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_ID:
            raise FrameError("bad_after", "after is a message id")
        return Resume(after)
    if kind == "typing":
        return Typing()
    if kind == "survey":
        score = frame.get("score")
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise FrameError("bad_score", "score is 1 to 5 (a comment comes with its score)")
        return Survey(score, _comment(frame.get("comment")))
    raise FrameError("unknown_type", f"unknown frame type {kind!r}")


def _client_id(frame: dict[str, Any]) -> str:
    client_id = frame.get("client_id")
    if isinstance(client_id, int) and not isinstance(client_id, bool):
        client_id = str(client_id)
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise FrameError("bad_client_id", "client_id is 1-64 letters, digits or _.:-")
    return client_id


def _text(frame: dict[str, Any], max_text: int) -> str:
    """A visitor's message text, stripped: non-empty, valid Unicode, at most `max_text` characters."""
    text = frame.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FrameError("empty_text", "text is a non-empty string")
    if not is_storable(text):
        raise FrameError("bad_text", "text holds invalid Unicode (a lone surrogate)")
    if len(text) > max_text:
        raise FrameError("text_too_long", f"text is at most {max_text} characters")
    return text.strip()


def _plain(value: str) -> bool:
    """Storable text without control, format (zero-width, direction) or line-break characters."""
    return is_storable(value) and not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value)


def _name(raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str) or not _plain(raw):
        raise FrameError("bad_name", "name is plain text on one line")
    if len(raw.strip()) > MAX_NAME:
        raise FrameError("name_too_long", f"name is at most {MAX_NAME} characters")
    return raw.strip()


def _contact(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise FrameError("empty_contact", "contact (a phone number or WeChat ID) is required")
    if not CONTACT.match(raw.strip()):
        raise FrameError("bad_contact", "contact is a phone number or WeChat ID: 3-64 letters, digits or + - _ . @ ( )")
    return raw.strip()


def _comment(raw: Any) -> str | None:
    """The survey's comment, cleaned (`rating_comments.clean_comment`); blank is none."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise FrameError("bad_comment", "comment is a string")
    if not is_storable(raw):
        raise FrameError("bad_comment", "comment holds invalid Unicode (a lone surrogate)")
    try:
        return clean_comment(raw, trim=False)
    except CommentError:
        raise FrameError("comment_too_long", f"comment is at most {MAX_COMMENT} characters") from None

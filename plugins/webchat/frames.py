"""Visitor frames of the widget protocol, parsed and checked; bad frames get an error frame."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from csgw.gateway.api.errors import MAX_ID, is_storable
from csgw.gateway.rating_comments import MAX_COMMENT, CommentError, clean_comment

CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")  # \Z: "$" would let a trailing newline in


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


def parse_frame(raw: str, max_text: int) -> VisitorMessage | Resume | Typing | Survey:
    try:
        frame = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise FrameError("bad_json", "the frame is not valid JSON") from None
    if not isinstance(frame, dict):
        raise FrameError("bad_frame", "a frame is a JSON object")
    kind = frame.get("type")
    if kind == "message":
        client_id = frame.get("client_id")
        if isinstance(client_id, int) and not isinstance(client_id, bool):
            client_id = str(client_id)
        if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
            raise FrameError("bad_client_id", "client_id is 1-64 letters, digits or _.:-")
        text = frame.get("text")
        if not isinstance(text, str) or not text.strip():
            raise FrameError("empty_text", "text is a non-empty string")
        if not is_storable(text):
            raise FrameError("bad_text", "text holds invalid Unicode (a lone surrogate)")
        if len(text) > max_text:
            raise FrameError("text_too_long", f"text is at most {max_text} characters")
        return VisitorMessage(client_id, text.strip())
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

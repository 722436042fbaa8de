"""What a canned reply may hold: the request body checked field by field, with a message for the
supervisor who typed it."""

from __future__ import annotations

import unicodedata
from typing import Any

from csgw.gateway.api.errors import ApiError

from .models import SHARED
from .template import TemplateError, checked_text

FIELDS = ("title", "shortcut", "text", "group")
MAX_TITLE = 100
MAX_SHORTCUT = 32  # after the slash
MAX_TEXT = 4000  # room for the variables' values within an agent reply's 8000
MAX_GROUP = 64
TEXT_CONTROLS = frozenset("\n\t")  # a canned text may have lines; no other control character

SCHEMA = {"type": "object", "required": ["title", "shortcut", "text"], "properties": {
    "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE},
    "shortcut": {"type": "string", "minLength": 1, "maxLength": MAX_SHORTCUT + 1},
    "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
    "group": {"type": ["string", "null"], "maxLength": MAX_GROUP}}}


def _refused(name: str, why: str, code: str = "bad_field") -> ApiError:
    return ApiError(422, code, f"{name} {why}")


def _string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise _refused(name, "is required", "missing_field")
    if not isinstance(value, str):
        raise _refused(name, "is a string")
    return value


def _no_controls(name: str, value: str, allowed: frozenset[str] = frozenset()) -> None:
    if any(unicodedata.category(char).startswith("C") and char not in allowed for char in value):
        raise _refused(name, "has control or invisible characters")


def _one_line(body: dict[str, Any], name: str, longest: int) -> str:
    value = " ".join(_string(body, name).split())
    _no_controls(name, value)
    if not value:
        raise _refused(name, "is empty")
    if len(value) > longest:
        raise _refused(name, f"is too long (at most {longest} characters)")
    return value


def shortcut_of(raw: str) -> str:
    """`/退款` from "退款", " /退款 " or "／退款" (a Chinese keyboard's slash)."""
    value = unicodedata.normalize("NFKC", raw).strip()
    value = "/" + value.removeprefix("/")
    _no_controls("shortcut", value)
    if len(value) < 2 or any(char.isspace() or char == "/" for char in value[1:]):
        raise _refused("shortcut", "is a slash and one word without spaces or slashes, such as /退款")
    if len(value) > MAX_SHORTCUT + 1:
        raise _refused("shortcut", f"is too long (at most {MAX_SHORTCUT} characters after the slash)")
    return value


def canned_values(body: dict[str, Any]) -> dict[str, Any]:
    """The stored columns for a request body, or a 422 naming the field."""
    unknown = set(body) - set(FIELDS)
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field(s): {', '.join(sorted(unknown))}")
    text = _string(body, "text").strip()
    _no_controls("text", text, TEXT_CONTROLS)
    if not text:
        raise _refused("text", "is empty")
    if len(text) > MAX_TEXT:
        raise _refused("text", f"is too long (at most {MAX_TEXT} characters)")
    try:
        text = checked_text(text)
    except TemplateError as error:
        raise ApiError(422, "unknown_variable", str(error)) from None
    group = body.get("group")
    if group is not None and not (isinstance(group, str) and " ".join(group.split())):
        raise _refused("group", "is a group's name, or null for every group")
    return {
        "title": _one_line(body, "title", MAX_TITLE),
        "shortcut": shortcut_of(_string(body, "shortcut")),
        "text": text,
        "group": _one_line(body, "group", MAX_GROUP) if group is not None else SHARED,
    }
